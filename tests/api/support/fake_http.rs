//! A real HTTP server on 127.0.0.1:0 that answers every request with what
//! the test scripted for that path, and counts the requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[derive(Clone)]
pub struct Scripted {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Scripted {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Scripted {
        Scripted {
            status,
            content_type,
            body: body.into(),
        }
    }
}

pub struct FakeHttp {
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    server: actix_web::dev::ServerHandle,
}

impl FakeHttp {
    /// Serves `routes` (path → answer); anything else is `404`.
    pub fn start(routes: Vec<(&'static str, Scripted)>) -> FakeHttp {
        let routes: Arc<HashMap<String, Scripted>> =
            Arc::new(routes.into_iter().map(|(p, s)| (p.to_owned(), s)).collect());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = hits.clone();
        let server = HttpServer::new(move || {
            let routes = routes.clone();
            let hits = counted.clone();
            App::new().default_service(web::to(move |req: HttpRequest| {
                let routes = routes.clone();
                let hits = hits.clone();
                async move {
                    *hits
                        .lock()
                        .unwrap()
                        .entry(req.path().to_owned())
                        .or_insert(0) += 1;
                    match routes.get(req.path()) {
                        Some(answer) => HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(answer.status).unwrap(),
                        )
                        .content_type(answer.content_type)
                        .body(answer.body.clone()),
                        None => HttpResponse::NotFound().finish(),
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let base = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeHttp {
            base,
            hits,
            server: handle,
        }
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        let handle = self.server.clone();
        tokio::spawn(async move { handle.stop(false).await });
    }
}

/// A port on 127.0.0.1 where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}
