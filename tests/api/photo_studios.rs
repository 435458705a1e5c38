//! Studios and who may upload for them (R-PH-01): platform admins register
//! studios; owners authorize and remove employees; only a studio's own
//! owner and employees reach its endpoints.

use citizen_api::auth::roles::ScopedRole;
use citizen_api::dev::fixtures::afm;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::booking_support::signed_in_with_role;
use crate::helpers::{TestApp, assert_problem, spawn_app};
use crate::photo_support::{Upload, send_upload, studio, uploaded};

const OWNER: &str = "123456783";
const OTHER_OWNER: &str = "012312312";

async fn roles_of(app: &TestApp, token: &str) -> Value {
    let me: Value = app.get_json_as(token, "/v1/me").await;
    me["roles"].clone()
}

async fn put_employee(app: &TestApp, token: &str, studio: &str, afm: &str) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/v1/studios/{studio}/employees/{afm}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn delete_employee(app: &TestApp, token: &str, studio: &str, afm: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/v1/studios/{studio}/employees/{afm}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn r_ph_01_a_platform_admin_registers_a_studio_and_its_owner_becomes_its_photographer() {
    let app = spawn_app().await;
    let studio = studio(&app, "094019245", OWNER).await;
    assert_eq!(
        roles_of(&app, &studio.owner).await,
        json!([{"role": "photographer", "scope_id": studio.id}])
    );
    // One registration per business.
    let admin = app.sign_in("090000045").await;
    let again = app
        .post_json_as(
            &admin,
            "/v1/studios",
            &json!({"name": "Άλλο όνομα", "afm": "094019245", "owner_afm": OTHER_OWNER}),
        )
        .await;
    assert_problem(again, 409, "already_exists").await;
    // Only platform admins register studios.
    let citizen = app.sign_in(OTHER_OWNER).await;
    let refused = app
        .post_json_as(
            &citizen,
            "/v1/studios",
            &json!({"name": "Δικό μου", "afm": afm(77), "owner_afm": OTHER_OWNER}),
        )
        .await;
    assert_problem(refused, 403, "forbidden").await;
    let invalid = app
        .post_json_as(
            &admin,
            "/v1/studios",
            &json!({"name": "Δικό μου", "afm": "123456789", "owner_afm": OTHER_OWNER}),
        )
        .await;
    let problem = assert_problem(invalid, 422, "validation_failed").await;
    assert_eq!(problem.errors[0].field, "afm");
}

#[tokio::test]
async fn r_ph_01_r_bk_10_the_owner_authorizes_and_removes_employees_with_audit_rows() {
    let app = spawn_app().await;
    let studio = studio(&app, "094019245", OWNER).await;
    let employee_afm = afm(501);
    let employee = app.sign_in(&employee_afm).await;
    let upload = Upload::to_mobile("+306900000001");
    // Before being authorized, the employee is a stranger.
    let before = send_upload(&app, &employee, &studio.id, &upload).await;
    assert_problem(before, 403, "forbidden").await;

    let granted = put_employee(&app, &studio.owner, &studio.id, &employee_afm).await;
    assert_eq!(granted.status(), StatusCode::NO_CONTENT);
    let again = put_employee(&app, &studio.owner, &studio.id, &employee_afm).await;
    assert_eq!(again.status(), StatusCode::NO_CONTENT, "idempotent");
    assert_eq!(
        roles_of(&app, &employee).await,
        json!([{"role": "studio_employee", "scope_id": studio.id}])
    );
    uploaded(&app, &employee, &studio.id, &upload).await;

    let removed = delete_employee(&app, &studio.owner, &studio.id, &employee_afm).await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let after = send_upload(&app, &employee, &studio.id, &upload).await;
    assert_problem(after, 403, "forbidden").await;

    // An employee cannot authorize others: that is the owner's alone.
    put_employee(&app, &studio.owner, &studio.id, &employee_afm).await;
    let by_employee = put_employee(&app, &employee, &studio.id, &afm(502)).await;
    assert_problem(by_employee, 403, "forbidden").await;

    let studio_id = studio.id.clone();
    let actions: Vec<(String, String)> = app
        .with_db(move |conn| {
            use citizen_api::db::schema::audit_events::dsl::*;
            use diesel::prelude::*;
            Ok(audit_events
                .filter(scope_id.eq(studio_id))
                .order(id)
                .select((action, actor_afm))
                .load(conn)?)
        })
        .await;
    assert_eq!(
        actions,
        vec![
            ("photographer.grant".to_owned(), "090000045".to_owned()),
            ("studio_employee.grant".to_owned(), OWNER.to_owned()),
            ("studio_employee.revoke".to_owned(), OWNER.to_owned()),
            ("studio_employee.grant".to_owned(), OWNER.to_owned()),
        ]
    );
}

/// Every studio endpoint, as (method, path) for `studio` and one of its
/// submissions.
fn studio_endpoints(studio: &str, submission: &str) -> Vec<(reqwest::Method, String)> {
    use reqwest::Method;
    vec![
        (Method::POST, format!("/v1/studios/{studio}/submissions")),
        (Method::GET, format!("/v1/studios/{studio}/submissions")),
        (
            Method::GET,
            format!("/v1/studios/{studio}/submissions/{submission}/qr.png"),
        ),
        (
            Method::DELETE,
            format!("/v1/studios/{studio}/submissions/{submission}"),
        ),
        (
            Method::PUT,
            format!("/v1/studios/{studio}/employees/{}", afm(9)),
        ),
        (
            Method::DELETE,
            format!("/v1/studios/{studio}/employees/{}", afm(9)),
        ),
    ]
}

#[tokio::test]
async fn r_ph_01_strangers_and_other_studios_members_are_refused_on_every_studio_endpoint() {
    let app = spawn_app().await;
    let ours = studio(&app, "094019245", OWNER).await;
    let theirs = studio(&app, &afm(600), OTHER_OWNER).await;
    let submission = uploaded(
        &app,
        &ours.owner,
        &ours.id,
        &Upload::to_mobile("+306900000002"),
    )
    .await;
    let submission = submission["id"].as_str().unwrap();
    let their_employee_afm = afm(601);
    put_employee(&app, &theirs.owner, &theirs.id, &their_employee_afm).await;
    let callers = [
        ("a stranger", app.sign_in(&afm(602)).await),
        ("another studio's owner", theirs.owner.clone()),
        (
            "another studio's employee",
            app.sign_in(&their_employee_afm).await,
        ),
        (
            "a platform admin",
            signed_in_with_role(&app, &afm(603), ScopedRole::PlatformAdmin).await,
        ),
    ];
    for (who, token) in &callers {
        for (method, path) in studio_endpoints(&ours.id, submission) {
            let mut request = app
                .client
                .request(method.clone(), app.url(&path))
                .bearer_auth(token);
            if path.ends_with("/submissions") && method == reqwest::Method::POST {
                request = request.multipart(Upload::to_mobile("+306900000003").form());
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{who}: {method} {path}"
            );
        }
    }
    // And nobody signed in at all.
    for (method, path) in studio_endpoints(&ours.id, submission) {
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
    }
    // The studio's own owner reaches them all.
    let own = app
        .get_as(&ours.owner, &format!("/v1/studios/{}/submissions", ours.id))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
}
