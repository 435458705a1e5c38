//! Roles (R-BK-08, R-BK-09): platform admins name municipality admins,
//! municipality admins name the staff of their own departments only, and
//! the first platform admin comes from the CLI.

use citizen_api::auth::roles::ScopedRole;
use citizen_api::booking::catalogue::{Municipality, Service};
use citizen_api::http::Page;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_support::{grant, town};
use crate::helpers::{TestApp, assert_problem, spawn_app};

const PLATFORM_ADMIN: &str = "090000045";
const KALAMATA_ADMIN: &str = "094019245";
/// Staff of Kalamata's department from the start.
const KALAMATA_STAFF: &str = "012312312";
const MARIA: &str = "123456783";

/// The app with two municipalities of its own, Kalamata and Sparta (one
/// department and service each), a platform admin, Kalamata's admin and
/// one of its staff.
async fn app() -> TestApp {
    let app = spawn_app().await;
    let kalamata = town(&app, "Kalamata", 1).await;
    town(&app, "Sparta", 1).await;
    grant(&app, PLATFORM_ADMIN, ScopedRole::PlatformAdmin).await;
    let municipality = ScopedRole::MunicipalityAdmin(kalamata.municipality.clone());
    grant(&app, KALAMATA_ADMIN, municipality).await;
    let department = ScopedRole::Staff(kalamata.department.clone());
    grant(&app, KALAMATA_STAFF, department).await;
    app
}

/// (municipality id, one of its department ids) by Greek name.
async fn municipality(app: &TestApp, name: &str) -> (String, String) {
    let page: Page<Municipality> = app.get_json("/v1/municipalities").await;
    let id = page
        .items
        .iter()
        .find(|m| m.name.el == name)
        .unwrap()
        .id
        .to_string();
    let services: Page<Service> = app
        .get_json(&format!("/v1/municipalities/{id}/services"))
        .await;
    (id, services.items[0].department.id.to_string())
}

async fn roles_of(app: &TestApp, token: &str) -> Value {
    let me: Value = app
        .get_as(token, "/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["roles"].clone()
}

#[tokio::test]
async fn r_bk_09_platform_admins_name_and_remove_municipality_admins() {
    let app = app().await;
    let (sparta, _) = municipality(&app, "Δήμος Sparta").await;
    let admin = app.sign_in(PLATFORM_ADMIN).await;
    let path = format!("/v1/municipalities/{sparta}/admins/{MARIA}");
    for _ in 0..2 {
        let put = app
            .client
            .put(app.url(&path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            put.status(),
            StatusCode::NO_CONTENT,
            "granting is idempotent"
        );
    }
    let maria = app.sign_in(MARIA).await;
    assert_eq!(
        roles_of(&app, &maria).await,
        json!([{ "role": "municipality_admin", "scope_id": sparta }])
    );
    let delete = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(roles_of(&app, &maria).await, json!([]));
}

#[tokio::test]
async fn only_platform_admins_name_municipality_admins() {
    let app = app().await;
    let (kalamata, _) = municipality(&app, "Δήμος Kalamata").await;
    let path = format!("/v1/municipalities/{kalamata}/admins/{MARIA}");
    assert_problem(
        app.client.put(app.url(&path)).send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    for afm in [MARIA, KALAMATA_ADMIN] {
        let token = app.sign_in(afm).await;
        let response = app
            .client
            .put(app.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_problem(response, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn r_bk_08_r_bk_09_municipality_admins_name_staff_of_their_own_departments_only() {
    let app = app().await;
    let (_, kalamata_department) = municipality(&app, "Δήμος Kalamata").await;
    let (_, sparta_department) = municipality(&app, "Δήμος Sparta").await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;

    let own = format!("/v1/departments/{kalamata_department}/staff/{MARIA}");
    let put = app
        .client
        .put(app.url(&own))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::NO_CONTENT);
    let maria = app.sign_in(MARIA).await;
    assert_eq!(
        roles_of(&app, &maria).await,
        json!([{ "role": "staff", "scope_id": kalamata_department }])
    );

    let other = format!("/v1/departments/{sparta_department}/staff/{MARIA}");
    let response = app
        .client
        .put(app.url(&other))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(response, 403, "forbidden").await;

    let delete = app
        .client
        .delete(app.url(&own))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NO_CONTENT);
    assert_eq!(roles_of(&app, &maria).await, json!([]));
}

#[tokio::test]
async fn bad_ids_and_afms_are_named_and_unknown_places_are_404() {
    let app = app().await;
    let admin = app.sign_in(PLATFORM_ADMIN).await;
    let (kalamata, _) = municipality(&app, "Δήμος Kalamata").await;
    let cases = [
        (
            format!("/v1/municipalities/{kalamata}/admins/123456789"),
            "afm",
        ),
        (
            format!("/v1/municipalities/nope/admins/{MARIA}"),
            "municipality_id",
        ),
    ];
    for (path, field) in cases {
        let response = app
            .client
            .put(app.url(&path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem.errors[0].field, field);
    }
    let unknown = format!("/v1/municipalities/{}/admins/{MARIA}", uuid::Uuid::now_v7());
    let response = app
        .client
        .put(app.url(&unknown))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;

    let kalamata_admin = app.sign_in(KALAMATA_ADMIN).await;
    let unknown = format!("/v1/departments/{}/staff/{MARIA}", uuid::Uuid::now_v7());
    let response = app
        .client
        .put(app.url(&unknown))
        .bearer_auth(&kalamata_admin)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404, "not_found").await;
}

#[tokio::test]
async fn the_cli_bootstraps_a_platform_admin() {
    let app = app().await;
    let run = |action: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_citizen-api"))
            .args(["admin", action, MARIA])
            .env("DATABASE_URL", &app.database_url)
            .env("CITIZEN_API_LOG__FILTER", "warn")
            .output()
            .unwrap()
    };
    let granted = run("grant");
    assert!(
        granted.status.success(),
        "{}",
        String::from_utf8_lossy(&granted.stderr)
    );
    assert!(String::from_utf8_lossy(&granted.stdout).contains("is now a platform administrator"));
    let maria = app.sign_in(MARIA).await;
    assert_eq!(
        roles_of(&app, &maria).await,
        json!([{ "role": "platform_admin", "scope_id": null }])
    );

    let kalamata = municipality(&app, "Δήμος Kalamata").await.0;
    let admins = format!("/v1/municipalities/{kalamata}/admins");
    let listed = app.get_as(&maria, &admins).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    let revoked = run("revoke");
    assert!(
        revoked.status.success(),
        "{:?} {} {}",
        revoked.status,
        String::from_utf8_lossy(&revoked.stdout),
        String::from_utf8_lossy(&revoked.stderr)
    );
    // The revoke took: her very session is refused from then on.
    assert!(
        String::from_utf8_lossy(&revoked.stdout).contains("is no longer a platform administrator")
    );
    let refused = app.get_as(&maria, &admins).send().await.unwrap();
    assert_problem(refused, 403, "forbidden").await;
    assert_eq!(roles_of(&app, &maria).await, json!([]));
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-api"))
        .args(["admin", "grant", "123"])
        .env("DATABASE_URL", &app.database_url)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

/// How many audit rows say `actor` did `action` to the person `afm`.
async fn audited(app: &TestApp, actor: &str, action: &'static str, afm: &str) -> i64 {
    use citizen_api::db::schema::audit_events as a;
    use diesel::prelude::*;
    let (actor, afm) = (actor.to_owned(), afm.to_owned());
    app.with_db(move |conn| {
        Ok(a::table
            .filter(a::actor_afm.eq(actor))
            .filter(a::action.eq(action))
            .filter(a::subject_type.eq("person"))
            .filter(a::subject_id.eq(afm))
            .count()
            .get_result(conn)?)
    })
    .await
}

/// R-BK-09, R-BK-10: an administrator sees whom they named, a page at a
/// time, and nobody else does; every AFM listed is in the audit trail.
#[tokio::test]
async fn r_bk_09_r_bk_10_administrators_list_whom_they_named_and_every_listing_is_audited() {
    let app = app().await;
    let (kalamata, department) = municipality(&app, "Δήμος Kalamata").await;
    let (_, sparta_department) = municipality(&app, "Δήμος Sparta").await;
    let admin = app.sign_in(KALAMATA_ADMIN).await;
    let path = format!("/v1/departments/{department}/staff/{MARIA}");
    let put = app.client.put(app.url(&path)).bearer_auth(&admin).send();
    assert_eq!(put.await.unwrap().status(), StatusCode::NO_CONTENT);

    // One at a time, to walk the pages (the department has staff already).
    let staff = format!("/v1/departments/{department}/staff");
    let (mut listed, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let query = cursor.map_or_else(String::new, |c| format!("&cursor={c}"));
        let page: Value = app
            .get_json_as(&admin, &format!("{staff}?limit=1{query}"))
            .await;
        listed.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let afms: Vec<&str> = listed.iter().map(|h| h["afm"].as_str().unwrap()).collect();
    assert!(afms.is_sorted(), "by AFM: {afms:?}");
    let maria = listed.iter().find(|h| h["afm"] == MARIA).unwrap();
    assert_eq!(maria["granted_by"], KALAMATA_ADMIN);
    for afm in afms {
        assert_eq!(
            audited(&app, KALAMATA_ADMIN, "staff.list", afm).await,
            1,
            "{afm}"
        );
    }

    let elsewhere = format!("/v1/departments/{sparta_department}/staff");
    let refused = app.get_as(&admin, &elsewhere).send().await.unwrap();
    assert_problem(refused, 403, "forbidden").await;
    let citizen = app.sign_in(MARIA).await;
    let admins = format!("/v1/municipalities/{kalamata}/admins");
    for path in [&staff, &admins] {
        let refused = app.get_as(&citizen, path).send().await.unwrap();
        assert_problem(refused, 403, "forbidden").await;
    }

    let platform = app.sign_in(PLATFORM_ADMIN).await;
    let listed: Value = app.get_json_as(&platform, &admins).await;
    let afms: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["afm"].as_str().unwrap())
        .collect();
    assert_eq!(afms, [KALAMATA_ADMIN]);
    assert_eq!(
        audited(
            &app,
            PLATFORM_ADMIN,
            "municipality_admin.list",
            KALAMATA_ADMIN
        )
        .await,
        1
    );
    let unknown = format!("/v1/municipalities/{}/admins", uuid::Uuid::now_v7());
    let missing = app.get_as(&platform, &unknown).send().await.unwrap();
    assert_problem(missing, 404, "not_found").await;
}

/// The audit rows about role changes to the person `afm`, oldest first:
/// (actor, actor's role, action, scope).
async fn role_changes(app: &TestApp, afm: &str) -> Vec<(String, String, String, String)> {
    use citizen_api::db::schema::audit_events as a;
    use diesel::prelude::*;
    let afm = afm.to_owned();
    app.with_db(move |conn| {
        Ok(a::table
            .filter(a::subject_type.eq("person"))
            .filter(a::subject_id.eq(afm))
            .filter(a::action.like("%.grant").or(a::action.like("%.revoke")))
            .order(a::id)
            .select((a::actor_afm, a::actor_role, a::action, a::scope_id))
            .load(conn)?)
    })
    .await
}

fn row(actor: &str, role: &str, action: &str, scope: &str) -> (String, String, String, String) {
    (actor.into(), role.into(), action.into(), scope.into())
}

/// Defect (issue 12), R-BK-10: granting and taking back roles over HTTP
/// left no audit row. Each grant and each revoke that changes something
/// writes exactly one, naming the administrator, the role, its scope and
/// the person; a repeated grant changes nothing and writes none.
#[tokio::test]
async fn r_bk_10_role_grants_and_revokes_over_http_are_audited() {
    let app = app().await;
    let (sparta, _) = municipality(&app, "Δήμος Sparta").await;
    let (_, department) = municipality(&app, "Δήμος Kalamata").await;
    let platform = app.sign_in(PLATFORM_ADMIN).await;
    let kalamata_admin = app.sign_in(KALAMATA_ADMIN).await;
    let admin_path = format!("/v1/municipalities/{sparta}/admins/{MARIA}");
    let staff_path = format!("/v1/departments/{department}/staff/{MARIA}");
    let send = |method: reqwest::Method, path: &str, token: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(token)
            .send()
    };
    let steps = [
        (reqwest::Method::PUT, &admin_path, &platform),
        (reqwest::Method::PUT, &admin_path, &platform),
        (reqwest::Method::PUT, &staff_path, &kalamata_admin),
        (reqwest::Method::DELETE, &staff_path, &kalamata_admin),
        (reqwest::Method::DELETE, &admin_path, &platform),
    ];
    for (method, path, token) in steps {
        let response = send(method, path, token).await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "{path}");
    }
    assert_eq!(
        role_changes(&app, MARIA).await,
        [
            row(
                PLATFORM_ADMIN,
                "platform_admin",
                "municipality_admin.grant",
                &sparta
            ),
            row(
                KALAMATA_ADMIN,
                "municipality_admin",
                "staff.grant",
                &department
            ),
            row(
                KALAMATA_ADMIN,
                "municipality_admin",
                "staff.revoke",
                &department
            ),
            row(
                PLATFORM_ADMIN,
                "platform_admin",
                "municipality_admin.revoke",
                &sparta
            ),
        ]
    );
}

/// Defect (issue 12), R-BK-10: `citizen-api admin grant|revoke` left no
/// audit row. Each writes one, naming the command line and the operating
/// system's user as the actor.
#[tokio::test]
async fn r_bk_10_platform_admin_grants_and_revokes_from_the_cli_are_audited() {
    let app = app().await;
    for action in ["grant", "revoke"] {
        let ran = std::process::Command::new(env!("CARGO_BIN_EXE_citizen-api"))
            .args(["admin", action, MARIA])
            .env("DATABASE_URL", &app.database_url)
            .env("CITIZEN_API_LOG__FILTER", "warn")
            .env("USER", "ops-anna")
            .output()
            .unwrap();
        assert!(
            ran.status.success(),
            "{}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }
    assert_eq!(
        role_changes(&app, MARIA).await,
        [
            row("cli:ops-anna", "cli", "platform_admin.grant", ""),
            row("cli:ops-anna", "cli", "platform_admin.revoke", ""),
        ]
    );
}
