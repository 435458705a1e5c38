//! An SMS gateway on a real actix server: it records every request and
//! answers 500 for the first `failures` of them, then 200.

use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct GatewayCall {
    pub message_id: String,
    pub to: String,
    pub text: String,
    #[serde(skip)]
    pub authorization: String,
}

struct State {
    failures: usize,
    calls: Mutex<Vec<GatewayCall>>,
}

pub struct SmsGateway {
    pub url: String,
    state: Arc<State>,
    handle: ServerHandle,
}

impl SmsGateway {
    /// Fails the first `failures` requests; `usize::MAX` fails them all.
    pub async fn start(failures: usize) -> SmsGateway {
        let state = Arc::new(State {
            failures,
            calls: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/messages", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/messages", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        SmsGateway { url, state, handle }
    }

    pub fn calls(&self) -> Vec<GatewayCall> {
        self.state.calls.lock().unwrap().clone()
    }
}

impl Drop for SmsGateway {
    fn drop(&mut self) {
        // Sends the stop command now; nobody needs to wait for it.
        drop(self.handle.stop(false));
    }
}

async fn receive(
    state: web::Data<State>,
    request: HttpRequest,
    body: web::Json<GatewayCall>,
) -> HttpResponse {
    let mut call = body.into_inner();
    call.authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut calls = state.calls.lock().unwrap();
    calls.push(call);
    if calls.len() <= state.failures {
        HttpResponse::InternalServerError().body("gateway trouble")
    } else {
        HttpResponse::Ok().finish()
    }
}
