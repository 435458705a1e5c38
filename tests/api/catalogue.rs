//! The public catalogue (R-BK-02, R-BK-04, R-BK-05).

use std::collections::HashSet;

use citizen_api::booking::catalogue::store::{self, MunicipalityRow};
use citizen_api::booking::catalogue::{Department, Municipality, Service};
use citizen_api::domain::ids::{DepartmentId, MunicipalityId};
use citizen_api::http::{Cursor, Page};

use crate::booking_support::{LEASE_DOCUMENTS, town};
use crate::helpers::{TestApp, assert_problem, named, spawn_app, spawn_demo_app};

#[tokio::test]
async fn r_bk_02_demo_catalogue_lists_municipalities_with_names_in_both_languages() {
    let app = spawn_demo_app().await;
    let page: Page<Municipality> = app.get_json("/v1/municipalities").await;
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.next_cursor, None);
    let kalamata = page
        .items
        .iter()
        .find(|m| m.name.en == "Municipality of Kalamata")
        .unwrap();
    assert_eq!(kalamata.name.el, "Δήμος Καλαμάτας");
    assert_eq!(kalamata.time_zone, "Europe/Athens");
    assert!(kalamata.contact_email.ends_with(".example"));
}

#[tokio::test]
async fn r_bk_04_r_bk_05_services_carry_their_department_and_documents() {
    let app = spawn_app().await;
    let town = town(&app, "Kalamata", 2).await;
    town.with_required_documents(&app, 0, LEASE_DOCUMENTS).await;
    let articles = &[
        ("Καταστατικό", "Articles of association"),
        ("Πρακτικό εκλογής ΔΣ", "Minutes electing the board"),
    ];
    town.serving_legal_entities(&app, 1, articles).await;
    town.serving_department(&app, "Civil Registry", 2).await;
    let page: Page<Service> = app
        .get_json(&format!(
            "/v1/municipalities/{}/services",
            town.municipality
        ))
        .await;
    assert_eq!(page.items.len(), 3);
    let registry: Vec<&Service> = page
        .items
        .iter()
        .filter(|s| s.department.name.el == "Δημοτολόγιο")
        .collect();
    assert_eq!(registry.len(), 2);
    assert!(registry.iter().all(|s| s.department.name.en == "Registry"));

    let associations = page.items.iter().find(|s| s.serves_legal_entities).unwrap();
    assert_eq!(associations.legal_entity_documents.len(), 2);
    assert!(associations.department.email.contains('@'));
    let income = page
        .items
        .iter()
        .find(|s| s.name.en == "Service 0")
        .unwrap();
    assert!(!income.serves_legal_entities);
    assert!(income.legal_entity_documents.is_empty());
    assert_eq!(income.duration_minutes, 20);
    assert_eq!(income.required_documents[0].en, "Identity card");
}

#[tokio::test]
async fn services_of_one_municipality_never_include_another_s() {
    let app = spawn_app().await;
    town(&app, "Kalamata", 4).await;
    town(&app, "Sparta", 3).await;
    let page: Page<Municipality> = app.get_json("/v1/municipalities").await;
    let mut seen = HashSet::new();
    for municipality in &page.items {
        let services: Page<Service> = app
            .get_json(&format!("/v1/municipalities/{}/services", municipality.id))
            .await;
        for service in services.items {
            assert!(
                seen.insert(service.id),
                "service listed under two municipalities"
            );
        }
    }
    assert_eq!(seen.len(), 7);
}

/// Every department that serves a listed service is in the municipality's
/// departments, and no other municipality's is.
#[tokio::test]
async fn a_municipality_lists_the_departments_that_serve_its_services() {
    let app = spawn_app().await;
    let town = town(&app, "Kalamata", 2).await;
    // Named so that the Greek order differs from the order made in.
    town.serving_department(&app, "Civil Registry", 2).await;
    town.serving_department(&app, "Archive", 3).await;
    // Another municipality's departments are never listed.
    crate::booking_support::town(&app, "Sparta", 1).await;
    let kalamata = &town.municipality;
    let departments: Page<Department> = app
        .get_json(&format!("/v1/municipalities/{kalamata}/departments"))
        .await;
    let services: Page<Service> = app
        .get_json(&format!("/v1/municipalities/{kalamata}/services"))
        .await;
    let listed: HashSet<&DepartmentId> = departments.items.iter().map(|d| &d.id).collect();
    let serving: HashSet<&DepartmentId> = services.items.iter().map(|s| &s.department.id).collect();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed, serving);
    let names: Vec<&str> = departments
        .items
        .iter()
        .map(|d| d.name.el.as_ref())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by Greek name");
    let unknown = format!("/v1/municipalities/{}/departments", uuid::Uuid::now_v7());
    assert_problem(app.get(&unknown).await, 404, "not_found").await;
}

/// Adds `count` municipalities (not a multiple of 37), named in an order
/// unlike their ids' order, so a cursor must follow the name.
async fn insert_municipalities(app: &TestApp, count: u32) {
    app.with_db(move |conn| {
        for n in 0..count {
            store::insert_municipality(
                conn,
                &MunicipalityRow {
                    id: MunicipalityId::generate(),
                    name_el: format!("Δήμος {:03}", (n * 37) % count),
                    name_en: format!("Municipality {n}"),
                    contact_email: format!("m{n}@example.gr"),
                    time_zone: "Europe/Athens".into(),
                    created_at: chrono::Utc::now().naive_utc(),
                },
            )?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn pages_walk_every_municipality_once() {
    let app = spawn_app().await;
    insert_municipalities(&app, 120).await;

    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut path = "/v1/municipalities?limit=50".to_owned();
    loop {
        let page: Page<Municipality> = app.get_json(&path).await;
        pages += 1;
        assert!(page.items.len() <= 50);
        for m in &page.items {
            assert!(seen.insert(m.id.clone()), "{} appeared twice", m.id);
        }
        match page.next_cursor {
            Some(cursor) => path = format!("/v1/municipalities?limit=50&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (120, 3));
}

/// docs/api.md: `?limit=` defaults to 50 and goes up to 200. With more rows
/// than the largest page, no `limit` gives exactly 50 and `limit=200`
/// exactly 200, each with a cursor to the rest; 201 is refused.
#[tokio::test]
async fn default_and_maximum_page_sizes() {
    let app = spawn_app().await;
    let empty: Page<Municipality> = app.get_json("/v1/municipalities").await;
    assert!(empty.items.is_empty() && empty.next_cursor.is_none());
    insert_municipalities(&app, 201).await;

    let default: Page<Municipality> = app.get_json("/v1/municipalities").await;
    assert_eq!(default.items.len(), 50, "the default page size");
    assert!(default.next_cursor.is_some());
    let largest: Page<Municipality> = app.get_json("/v1/municipalities?limit=200").await;
    assert_eq!(largest.items.len(), 200, "the maximum page size");
    let cursor = largest.next_cursor.expect("a cursor to the 201st");
    let rest: Page<Municipality> = app
        .get_json(&format!("/v1/municipalities?limit=200&cursor={cursor}"))
        .await;
    assert_eq!((rest.items.len(), rest.next_cursor), (1, None));
    let one: Page<Municipality> = app.get_json("/v1/municipalities?limit=1").await;
    assert_eq!(one.items.len(), 1);

    let response = app.get("/v1/municipalities?limit=201").await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(named(&problem), [("limit", "out_of_range")]);
}

#[tokio::test]
async fn an_unknown_municipality_is_404() {
    let app = spawn_app().await;
    let path = format!("/v1/municipalities/{}/services", MunicipalityId::generate());
    assert_problem(app.get(&path).await, 404, "not_found").await;
}

#[tokio::test]
async fn a_malformed_municipality_id_names_the_parameter() {
    let app = spawn_app().await;
    for id in [
        "42",
        "not-a-uuid",
        "01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a0g",
        "%C3%A9",
    ] {
        let response = app.get(&format!("/v1/municipalities/{id}/services")).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem.errors[0].field, "municipality_id", "{id}");
        assert_eq!(problem.errors[0].code, "invalid_id");
    }
}

#[tokio::test]
async fn bad_paging_parameters_are_422_with_each_field_named() {
    let app = spawn_app().await;
    for limit in ["0", "201", "-5", "abc", "1.5", ""] {
        let response = app.get(&format!("/v1/municipalities?limit={limit}")).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem.errors[0].field, "limit", "limit={limit}");
    }
    let response = app.get("/v1/municipalities?limit=0&cursor=%%%").await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["limit", "cursor"]);

    let kalamata = town(&app, "Kalamata", 1).await.municipality;
    let response = app
        .get(&format!(
            "/v1/municipalities/{kalamata}/services?cursor=bm9wZQ"
        ))
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].code, "invalid_cursor");

    // A cursor whose id is not an id (edited by hand) is refused too.
    let edited = Cursor::encode(&("Υπηρεσία 0", "not-a-uuid"));
    let response = app
        .get(&format!(
            "/v1/municipalities/{kalamata}/services?cursor={edited}"
        ))
        .await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].code, "invalid_cursor");
}
