//! Receivers for outgoing messages, run inside the tests: a small SMTP server and a webhook
//! endpoint that checks signatures with the `standardwebhooks` crate (an implementation
//! independent of Accredit's).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

/// A message the SMTP server accepted (answered 250 after its data).
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub header_to: String,
    pub body: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpBehaviour {
    Accept,
    /// Every recipient is refused with a permanent 550.
    RefuseRecipients,
    /// Accept the first N messages, then never answer the next one's data (it is not accepted:
    /// a client that dies waiting has not delivered it).
    StallAfter(usize),
}

#[derive(Default)]
struct SmtpState {
    accepted: Vec<ReceivedEmail>,
    stalled: bool,
}

pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<SmtpState>>,
}

impl SmtpSink {
    pub async fn start(behaviour: SmtpBehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(SmtpState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve_smtp(socket, state, behaviour).await;
                });
            }
        });
        Self { port, state }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn accepted(&self) -> Vec<ReceivedEmail> {
        self.state.lock().unwrap().accepted.clone()
    }

    pub fn stalled(&self) -> bool {
        self.state.lock().unwrap().stalled
    }
}

async fn serve_smtp(
    socket: tokio::net::TcpStream,
    state: Arc<Mutex<SmtpState>>,
    behaviour: SmtpBehaviour,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write.write_all(b"250 sink.test\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line[10..]);
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            if behaviour == SmtpBehaviour::RefuseRecipients {
                write
                    .write_all(b"550 5.1.1 mailbox unavailable\r\n")
                    .await?;
            } else {
                to.push(address(&line[8..]));
                write.write_all(b"250 OK\r\n").await?;
            }
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = Vec::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
            }
            if let SmtpBehaviour::StallAfter(n) = behaviour {
                let stall = {
                    let mut state = state.lock().unwrap();
                    state.stalled |= state.accepted.len() >= n;
                    state.accepted.len() >= n
                };
                if stall {
                    // Never answer: the client waits until it is killed.
                    std::future::pending::<()>().await;
                }
            }
            let email = parse_email(&from, &to, &data);
            state.lock().unwrap().accepted.push(email);
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else.
            write.write_all(b"250 OK\r\n").await?;
        }
    }
    Ok(())
}

fn address(text: &str) -> String {
    text.trim()
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn parse_email(from: &str, to: &[String], data: &[String]) -> ReceivedEmail {
    let blank = data.iter().position(String::is_empty).unwrap_or(data.len());
    // Unfold continued header lines.
    let mut headers: Vec<String> = Vec::new();
    for line in &data[..blank] {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.push_str(line.trim_start());
            }
        } else {
            headers.push(line.clone());
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    let raw_body = data.get(blank + 1..).unwrap_or_default().join("\n");
    let body = if header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable") {
        decode_quoted_printable(&raw_body)
    } else {
        raw_body
    };
    ReceivedEmail {
        from: from.to_owned(),
        to: to.to_vec(),
        subject: header("Subject"),
        message_id: header("Message-ID"),
        header_to: header("To"),
        body,
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len() + 1
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A webhook delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub id: String,
    /// Whether `standardwebhooks` accepted the signature and timestamp.
    pub verified: bool,
    pub body: serde_json::Value,
    /// The status the receiver answered.
    pub answered: u16,
}

#[derive(Default)]
struct HookState {
    secret: Option<String>,
    fail_next: usize,
    always_fail: bool,
    received: Vec<ReceivedWebhook>,
}

pub struct WebhookReceiver {
    pub url: String,
    state: Arc<Mutex<HookState>>,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(HookState::default()));
        let shared = state.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { receive(&state, &headers, &body) }
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state }
    }

    pub fn set_secret(&self, secret: &str) {
        self.state.lock().unwrap().secret = Some(secret.to_owned());
    }

    /// Answers 500 to the next `n` deliveries.
    pub fn fail_next(&self, n: usize) {
        self.state.lock().unwrap().fail_next = n;
    }

    pub fn always_fail(&self, fail: bool) {
        self.state.lock().unwrap().always_fail = fail;
    }

    pub fn received(&self) -> Vec<ReceivedWebhook> {
        self.state.lock().unwrap().received.clone()
    }
}

fn receive(state: &Mutex<HookState>, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let mut state = state.lock().unwrap();
    let verified = state.secret.as_deref().is_some_and(|secret| {
        standardwebhooks::Webhook::new(secret)
            .and_then(|hook| hook.verify(body, headers))
            .is_ok()
    });
    let failing = state.always_fail || state.fail_next > 0;
    if state.fail_next > 0 {
        state.fail_next -= 1;
    }
    let status = if !verified {
        StatusCode::UNAUTHORIZED
    } else if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    };
    state.received.push(ReceivedWebhook {
        id: headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        verified,
        body: serde_json::from_slice(body).unwrap_or(serde_json::Value::Null),
        answered: status.as_u16(),
    });
    status
}
