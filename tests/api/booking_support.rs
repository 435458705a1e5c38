//! Arranging what the booking tests need: a municipality of their own
//! with its services and role holders, bookable slots, many citizens.

use chrono::{Duration, SubsecRound, Utc};
use citizen_api::auth::roles::ScopedRole;
use citizen_api::booking::catalogue::Service;
use citizen_api::dev::fixtures;
use citizen_api::domain::ids::{DepartmentId, MunicipalityId, ServiceId, SlotId};
use citizen_api::http::Page;
use diesel::QueryDsl;
use diesel::prelude::*;

use crate::helpers::TestApp;

/// A fixture that gives a service documents of one kind.
type Documents =
    fn(&mut citizen_api::db::DbConn, &ServiceId, &[(&str, &str)]) -> diesel::QueryResult<()>;

pub use citizen_api::dev::fixtures::afm;

/// A municipality of the test's own, with one department and its
/// services as the API lists them (named "Service 0", "Service 1", …).
pub struct Town {
    pub municipality: MunicipalityId,
    pub department: DepartmentId,
    pub services: Vec<Service>,
}

/// A new municipality named `name` ("Municipality of {name}") with
/// `services` services in one department, none with documents.
pub async fn town(app: &TestApp, name: &str, services: usize) -> Town {
    let name = name.to_owned();
    let catalogue = app
        .with_db(move |conn| Ok(fixtures::catalogue(conn, &name, services)?))
        .await;
    let mut town = Town {
        municipality: catalogue.municipality,
        department: catalogue.department,
        services: Vec::new(),
    };
    town.services = town.listed_services(app).await;
    // In the order the fixture made them, whatever the listing's order.
    town.services
        .sort_by_key(|s| catalogue.services.iter().position(|id| *id == s.id));
    town
}

impl Town {
    /// Another department of this municipality, without services.
    pub async fn department(&self, app: &TestApp, name_en: &'static str) -> DepartmentId {
        let municipality = self.municipality.clone();
        app.with_db(move |conn| Ok(fixtures::department(conn, &municipality, name_en)?))
            .await
    }

    /// Another department of this municipality with one service, "Service
    /// {n}"; answers the department.
    pub async fn serving_department(
        &self,
        app: &TestApp,
        name_en: &'static str,
        n: usize,
    ) -> DepartmentId {
        let municipality = self.municipality.clone();
        app.with_db(move |conn| {
            let department = fixtures::department(conn, &municipality, name_en)?;
            fixtures::service(conn, &department, n)?;
            Ok(department)
        })
        .await
    }

    async fn listed_services(&self, app: &TestApp) -> Vec<Service> {
        let page: Page<Service> = app
            .get_json(&format!(
                "/v1/municipalities/{}/services?limit=100",
                self.municipality
            ))
            .await;
        page.items
    }

    /// The `n`th service as the API shows it now.
    pub async fn service(&self, app: &TestApp, n: usize) -> Service {
        let id = &self.services[n].id;
        let listed = self.listed_services(app).await;
        listed.into_iter().find(|s| s.id == *id).unwrap()
    }

    /// Gives the `n`th service documents to bring (R-BK-05); answers it as
    /// the API now shows it.
    pub async fn with_required_documents(
        &self,
        app: &TestApp,
        n: usize,
        names: &'static [(&'static str, &'static str)],
    ) -> Service {
        self.documented(app, n, names, fixtures::required_documents)
            .await
    }

    /// Lets the `n`th service serve legal entities with these documents
    /// (R-BK-04); answers it as the API now shows it.
    pub async fn serving_legal_entities(
        &self,
        app: &TestApp,
        n: usize,
        names: &'static [(&'static str, &'static str)],
    ) -> Service {
        self.documented(app, n, names, fixtures::serve_legal_entities)
            .await
    }

    /// Runs a documents fixture on the `n`th service and reads it back.
    async fn documented(
        &self,
        app: &TestApp,
        n: usize,
        names: &'static [(&'static str, &'static str)],
        arrange: Documents,
    ) -> Service {
        let id = self.services[n].id.clone();
        app.with_db(move |conn| Ok(arrange(conn, &id, names)?))
            .await;
        self.service(app, n).await
    }
}

/// `count` services of one new municipality, for tests about bookings.
pub async fn services(app: &TestApp, count: usize) -> Vec<Service> {
    town(app, "Testville", count).await.services
}

/// One service of a new municipality, for tests about bookings.
pub async fn bookable_service(app: &TestApp) -> Service {
    services(app, 1).await.remove(0)
}

/// What a documented service asks every citizen to bring (R-BK-05).
pub const LEASE_DOCUMENTS: &[(&str, &str)] = &[
    ("Ταυτότητα", "Identity card"),
    ("Μισθωτήριο συμβόλαιο", "Lease agreement"),
];

/// One service of a new municipality that asks for [`LEASE_DOCUMENTS`].
pub async fn documented_service(app: &TestApp) -> Service {
    town(app, "Testville", 1)
        .await
        .with_required_documents(app, 0, LEASE_DOCUMENTS)
        .await
}

/// Grants `held` to `afm` and signs them in; answers the session token.
pub async fn signed_in_with_role(app: &TestApp, afm: &str, held: ScopedRole) -> String {
    grant(app, afm, held).await;
    app.sign_in(afm).await
}

/// Certifies `mobile` as `afm`'s in the development contact registry.
pub async fn certify_mobile(app: &TestApp, afm: &str, mobile: &str) {
    let (afm, mobile) = (afm.to_owned(), mobile.to_owned());
    app.with_db(move |conn| Ok(fixtures::certified_mobile(conn, &afm, &mobile, Utc::now())?))
        .await;
}

/// Grants `held` to `afm`, with its audit row.
pub async fn grant(app: &TestApp, afm: &str, held: ScopedRole) {
    let afm = afm.to_owned();
    app.with_db(move |conn| Ok(fixtures::grant(conn, &afm, &held, Utc::now())?))
        .await;
}

/// Gives the service a booking window and slots starting `hours` from now,
/// each with `capacity` seats; answers the slot ids in that order.
pub async fn slots(
    app: &TestApp,
    service_id: &ServiceId,
    hours: &[i64],
    capacity: i32,
) -> Vec<SlotId> {
    let service_id = service_id.clone();
    let now = Utc::now().trunc_subsecs(0);
    let starts: Vec<_> = hours.iter().map(|h| now + Duration::hours(*h)).collect();
    app.with_db(move |conn| Ok(fixtures::slots(conn, &service_id, &starts, capacity)?))
        .await
}

/// A booking of `slot_id`, which may also be text that is no slot's id.
pub fn booking_body(slot_id: impl AsRef<str>) -> serde_json::Value {
    serde_json::json!({
        "slot_id": slot_id.as_ref(),
        "full_name": "Μαρία Παπαδοπούλου",
        "email": "maria@example.gr",
        "phone": "6912345678",
        "special_requirements": "Πρόσβαση με αμαξίδιο"
    })
}

/// Signs in `count` distinct citizens, in parallel.
pub async fn citizens(app: &TestApp, count: u32) -> Vec<String> {
    futures_util::future::join_all((0..count).map(|n| {
        let afm = afm(1000 + n);
        async move { app.sign_in(&afm).await }
    }))
    .await
}

/// Changes the service's booking window, leaving its slots as they are.
pub async fn set_window(
    app: &TestApp,
    service_id: &ServiceId,
    min_notice_minutes: i32,
    max_advance_days: i32,
) {
    use citizen_api::db::schema::service_schedules::dsl as s;
    let service_id = service_id.clone();
    app.with_db(move |conn| {
        Ok(diesel::update(s::service_schedules.find(service_id))
            .set((
                s::min_notice_minutes.eq(min_notice_minutes),
                s::max_advance_days.eq(max_advance_days),
            ))
            .execute(conn)?)
    })
    .await;
}
