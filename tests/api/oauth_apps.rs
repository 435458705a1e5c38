//! Applications as platform admins register, rotate and disable them, and
//! the public list citizens choose from.

use citizen_api::db::schema::{app_secrets, audit_events};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, named, spawn_app};
use crate::oauth_support::{assert_oauth_error, platform_admin, register_app, token_response};

fn driving_licences() -> Value {
    json!({
        "name": "Άδειες οδήγησης",
        "organization": "Υπουργείο Υποδομών και Μεταφορών",
        "purpose": "driving_licences",
        "scopes": ["photos:face", "photos:signature"]
    })
}

#[tokio::test]
async fn only_a_platform_admin_registers_an_application() {
    let app = spawn_app().await;
    let anonymous = app
        .client
        .post(app.url("/v1/apps"))
        .json(&driving_licences())
        .send()
        .await
        .unwrap();
    assert_problem(anonymous, 401, "unauthenticated").await;
    let citizen = app.sign_in("123456783").await;
    let refused = app
        .post_json_as(&citizen, "/v1/apps", &driving_licences())
        .await;
    assert_problem(refused, 403, "forbidden").await;

    let admin = platform_admin(&app).await;
    let response = app
        .post_json_as(&admin, "/v1/apps", &driving_licences())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "Άδειες οδήγησης");
    assert_eq!(body["purpose"], "driving_licences");
    assert_eq!(body["scopes"], json!(["photos:face", "photos:signature"]));
    assert_eq!(body["client_secret"].as_str().unwrap().len(), 43);
    let app_id = body["app_id"].as_str().unwrap().to_owned();
    let actions = app
        .with_db(move |conn| {
            Ok(audit_events::table
                .filter(audit_events::subject_id.eq(app_id))
                .select((audit_events::action, audit_events::actor_afm))
                .load::<(String, String)>(conn)?)
        })
        .await;
    assert_eq!(
        actions,
        [("app.register".to_owned(), "090000045".to_owned())]
    );
}

#[tokio::test]
async fn the_signature_is_refused_to_any_purpose_but_driving_licences_r_ph_18() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let mut identity = driving_licences();
    identity["purpose"] = json!("identity_documents");
    let refused = app.post_json_as(&admin, "/v1/apps", &identity).await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(
        named(&problem),
        [("scopes", "scope_not_allowed_for_purpose")]
    );

    let empty = json!({"name": "x", "organization": "", "purpose": "passports", "scopes": []});
    let refused = app.post_json_as(&admin, "/v1/apps", &empty).await;
    let problem = assert_problem(refused, 422, "validation_failed").await;
    assert_eq!(
        named(&problem),
        [
            ("name", "invalid_text"),
            ("organization", "invalid_text"),
            ("purpose", "unknown_purpose"),
            ("scopes", "required")
        ]
    );
    let listed: Value = app.get_json("/v1/apps").await;
    assert_eq!(listed["items"], json!([]), "nothing was registered");
}

#[tokio::test]
async fn the_secret_is_shown_once_and_stored_only_as_an_argon2id_hash() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (app_id, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let stored = app
        .with_db(move |conn| {
            Ok(app_secrets::table
                .filter(app_secrets::app_id.eq(app_id))
                .select(app_secrets::secret_hash)
                .load::<String>(conn)?)
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("$argon2id$"), "{}", stored[0]);
    assert!(!stored[0].contains(&secret));
    // Nowhere else either: a dump of the database does not hold it.
    let dump = app
        .with_db(|conn| {
            use diesel::sql_types::Text;
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = Text)]
                text: String,
            }
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT id || client_id || name || organization || purpose || scopes AS text FROM apps \
                 UNION ALL SELECT action || subject_id AS text FROM audit_events",
            )
            .load(conn)?;
            Ok(rows.into_iter().map(|row| row.text).collect::<Vec<_>>())
        })
        .await;
    assert!(dump.iter().all(|text| !text.contains(&secret)));
    assert!(dump.iter().any(|text| text.contains(&client_id)));
}

#[tokio::test]
async fn the_public_list_shows_enabled_applications_and_what_they_may_read() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (licences, ..) = register_app(
        &app,
        &admin,
        "driving_licences",
        &["photos:face", "photos:signature"],
    )
    .await;
    let (police, ..) = register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let disabled = app
        .post_as(&admin, &format!("/v1/apps/{police}/disable"))
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::NO_CONTENT);
    let listed: Value = app.get_json("/v1/apps").await;
    assert_eq!(
        listed,
        json!({"items": [{
            "id": licences,
            "name": "driving_licences photos:face photos:signature",
            "organization": "Υπουργείο Μεταφορών",
            "purpose": "driving_licences",
            "scopes": ["photos:face", "photos:signature"]
        }]})
    );
}

#[tokio::test]
async fn parallel_registrations_of_one_name_leave_one_application() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let body = driving_licences();
    let attempts = (0..6).map(|_| app.post_json_as(&admin, "/v1/apps", &body));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [201, 409].contains(s)),
        "{statuses:?}"
    );
    let listed: Value = app.get_json("/v1/apps").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_disabled_application_gets_no_token_and_no_new_secret() {
    let app = spawn_app().await;
    let admin = platform_admin(&app).await;
    let (app_id, client_id, secret) =
        register_app(&app, &admin, "identity_documents", &["photos:face"]).await;
    let disable = format!("/v1/apps/{app_id}/disable");
    for _ in 0..2 {
        let response = app.post_as(&admin, &disable).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT, "again, the same");
    }
    let refused = token_response(&app, &client_id, &secret, None).await;
    assert_oauth_error(refused, 401, "invalid_client").await;
    let rotate = format!("/v1/apps/{app_id}/rotate-secret");
    let refused = app.post_as(&admin, &rotate).send().await.unwrap();
    assert_problem(refused, 409, "app_disabled").await;
    let unknown = app
        .post_as(
            &admin,
            "/v1/apps/01936f0e-5d1a-7c3b-9a4e-2f6d8b1c0a09/disable",
        )
        .send()
        .await
        .unwrap();
    assert_problem(unknown, 404, "not_found").await;
    let citizen = app.sign_in("123456783").await;
    let refused = app.post_as(&citizen, &disable).send().await.unwrap();
    assert_problem(refused, 403, "forbidden").await;
    let audited = app
        .with_db(move |conn| {
            Ok(audit_events::table
                .filter(audit_events::subject_id.eq(app_id))
                .filter(audit_events::action.eq("app.disable"))
                .count()
                .get_result::<i64>(conn)?)
        })
        .await;
    assert_eq!(audited, 1, "disabling again changed nothing");
}
