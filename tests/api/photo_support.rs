//! What the photo tests share: studios and their members, strong
//! citizens, uploads made through the API, and codes read from the
//! development outbox.

use citizen_api::auth::roles::ScopedRole;
use citizen_api::dev::images;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::booking_support::{certify_mobile, signed_in_with_role};
use crate::helpers::TestApp;

/// A registered studio and its owner's session.
pub struct Studio {
    pub id: String,
    pub owner: String,
}

/// Registers a studio owned by `owner_afm` through the API, as a platform
/// admin, and signs the owner in.
pub async fn studio(app: &TestApp, business_afm: &str, owner_afm: &str) -> Studio {
    let admin = signed_in_with_role(app, "090000045", ScopedRole::PlatformAdmin).await;
    let response = app
        .post_json_as(
            &admin,
            "/v1/studios",
            &json!({"name": "Φωτογραφείο Φως", "afm": business_afm, "owner_afm": owner_afm}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let studio: serde_json::Value = response.json().await.unwrap();
    Studio {
        id: studio["id"].as_str().unwrap().to_owned(),
        owner: app.sign_in(owner_afm).await,
    }
}

/// Signs `afm` in and confirms the session with the SMS one-time code
/// (R-PH-02); answers the session token.
pub async fn strong_citizen(app: &TestApp, afm: &str, mobile: &str) -> String {
    certify_mobile(app, afm, mobile).await;
    let token = app.sign_in(afm).await;
    let code = app.request_otp(&token, mobile).await;
    let response = app
        .post_json_as(&token, "/v1/auth/otp/verify", &json!({"code": code}))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "the code is accepted");
    token
}

/// An upload's form: the two images and the contacts given.
pub struct Upload {
    pub face: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_type: &'static str,
    pub mobile: Option<String>,
    pub email: Option<String>,
}

impl Upload {
    /// A valid portrait face JPEG and signature PNG, sent to `mobile`.
    pub fn to_mobile(mobile: &str) -> Upload {
        Upload {
            face: images::face_jpeg(600, 750),
            signature: images::signature_png(600, 200),
            signature_type: "image/png",
            mobile: Some(mobile.to_owned()),
            email: None,
        }
    }

    pub fn form(&self) -> Form {
        let mut form = Form::new()
            .part(
                "face",
                Part::bytes(self.face.clone())
                    .file_name("face.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            )
            .part(
                "signature",
                Part::bytes(self.signature.clone())
                    .file_name("signature")
                    .mime_str(self.signature_type)
                    .unwrap(),
            );
        if let Some(mobile) = &self.mobile {
            form = form.text("citizen_mobile", mobile.clone());
        }
        if let Some(email) = &self.email {
            form = form.text("citizen_email", email.clone());
        }
        form
    }
}

/// Sends the upload as the holder of `token`.
pub async fn send_upload(
    app: &TestApp,
    token: &str,
    studio: &str,
    upload: &Upload,
) -> reqwest::Response {
    app.post_as(token, &format!("/v1/studios/{studio}/submissions"))
        .multipart(upload.form())
        .send()
        .await
        .expect("the server answers")
}

/// Uploads as the holder of `token` and answers the `201` body.
pub async fn uploaded(
    app: &TestApp,
    token: &str,
    studio: &str,
    upload: &Upload,
) -> serde_json::Value {
    let response = send_upload(app, token, studio, upload).await;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Uploads a pair for `mobile` to a fresh studio and answers the code as
/// the studio was shown it.
pub async fn code_for(app: &TestApp, studio: &Studio, mobile: &str) -> String {
    let body = uploaded(app, &studio.owner, &studio.id, &Upload::to_mobile(mobile)).await;
    body["kodikarithmos"].as_str().unwrap().to_owned()
}

/// POSTs `{"kodikarithmos": code}` to preview what it holds.
pub async fn preview(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json_as(
        token,
        "/v1/me/photos/preview",
        &json!({"kodikarithmos": code}),
    )
    .await
}

/// POSTs `{"kodikarithmos": code, "confirm": true}` to link it.
pub async fn link(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json_as(
        token,
        "/v1/me/photos/link",
        &json!({"kodikarithmos": code, "confirm": true}),
    )
    .await
}

pub async fn unlink(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url("/v1/me/photos/link"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the server answers")
}
