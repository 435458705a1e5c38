//! A minimal SMTP server that accepts every message and keeps its raw text:
//! 220 greeting, EHLO/HELO, MAIL, RCPT, DATA … ".", RSET, NOOP, QUIT.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, store.clone()));
            }
        });
        SmtpSink { port, received }
    }

    /// The raw messages (headers and body, dot-stuffing undone) so far.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

async fn session(stream: TcpStream, received: Arc<Mutex<Vec<String>>>) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut reply = async |text: &str| writer.write_all(format!("{text}\r\n").as_bytes()).await;
    if reply("220 sink.test ESMTP").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink.test",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => "250 OK",
            "DATA" => {
                if reply("354 end with <CRLF>.<CRLF>").await.is_err() {
                    return;
                }
                let mut message = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    message.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
                }
                received.lock().unwrap().push(message.join("\r\n"));
                "250 queued"
            }
            "QUIT" => {
                let _ = reply("221 bye").await;
                return;
            }
            _ => "502 not implemented",
        };
        if reply(answer).await.is_err() {
            return;
        }
    }
}
