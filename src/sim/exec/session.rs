//! One exec session over an upgraded WebSocket: runs the command on a blocking thread and
//! moves bytes between it and the socket through small bounded queues, so gigabytes flow with
//! backpressure in constant memory. Ends with the exit `Status` on the error channel and a
//! clean close; or, when the client goes away, stops the command.

use super::ExecRequest;
use super::container::Container;
use super::protocol::{self, Inbound, Protocol};
use super::shell::{self, Io};
use futures::{SinkExt, StreamExt};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Payload bytes per stdout/stderr frame.
pub const CHUNK: usize = 64 * 1024;
/// Frames queued between the command thread and the socket, each way.
pub const QUEUE: usize = 4;
/// Commands running right now, across every session (tests use it to prove that a command
/// stops when its client goes away).
static RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

pub fn commands_running() -> usize {
    RUNNING.load(Ordering::SeqCst)
}

/// Counts one running command for as long as it lives.
struct RunningGuard;

impl RunningGuard {
    fn new() -> Self {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        RunningGuard
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long to wait for the client's close reply after our close.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Writes a stream of the command into frames of one channel, `CHUNK` bytes at a time.
struct ChannelWriter {
    channel: u8,
    tx: Option<mpsc::Sender<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn new(channel: u8, tx: Option<mpsc::Sender<Bytes>>) -> Self {
        let mut w = ChannelWriter {
            channel,
            tx,
            buf: Vec::new(),
        };
        w.reset();
        w
    }

    fn reset(&mut self) {
        self.buf = Vec::with_capacity(CHUNK + 1);
        self.buf.push(self.channel);
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.len() <= 1 {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.buf);
        self.reset();
        match &self.tx {
            Some(tx) => tx.blocking_send(Bytes::from(frame)).map_err(|_| gone()),
            None => Ok(()),
        }
    }
}

fn gone() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "Broken pipe")
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.tx.is_none() {
            return Ok(data.len()); // stream not requested: discarded, like /dev/null
        }
        let room = CHUNK + 1 - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() > CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The command's stdin: chunks from the socket, EOF when the client closes it.
struct StdinReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
    cancel: Arc<AtomicBool>,
}

impl Read for StdinReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None if self.cancel.load(Ordering::Relaxed) => return Err(gone()),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len());
        out[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// Sets the cancel flag when the session ends by any path other than a normal finish.
struct CancelOnDrop(Arc<AtomicBool>, bool);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Runs `exec` over an already-upgraded socket.
pub async fn run<S>(mut ws: WebSocketStream<S>, protocol: Protocol, exec: ExecRequest)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(QUEUE);
    let (in_tx, in_rx) = mpsc::channel::<Bytes>(QUEUE);
    let cancel = Arc::new(AtomicBool::new(false));
    let mut in_tx = exec.stdin.then_some(in_tx);
    let mut guard = CancelOnDrop(cancel.clone(), false);

    if let Some(message) = &exec.fail_with {
        // The API server upgraded the client, then could not reach the kubelet: it writes
        // an InternalError Status (no exit code) on the error channel and closes.
        guard.1 = true;
        let body = serde_json::to_vec(&protocol::internal_error(message)).unwrap_or_default();
        let _ = ws
            .send(Message::Binary(protocol::encode(protocol::ERROR, &body)))
            .await;
        let _ = ws
            .close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
        return;
    }

    // Like the kubelet: an empty frame on the lowest writable channel says "connected".
    let hello = if exec.stdout || exec.tty {
        protocol::STDOUT
    } else if exec.stderr {
        protocol::STDERR
    } else {
        protocol::ERROR
    };
    if ws
        .send(Message::Binary(protocol::encode(hello, b"")))
        .await
        .is_err()
    {
        return;
    }

    let command = exec.command.clone();
    let break_after = exec.break_after_bytes;
    let task = {
        let cancel = cancel.clone();
        let running = RunningGuard::new();
        tokio::task::spawn_blocking(move || {
            let _running = running;
            let container = Container::new(exec.mounts, exec.files);
            let mut stdin = StdinReader {
                rx: in_rx,
                cur: Bytes::new(),
                cancel: cancel.clone(),
            };
            let mut stdout =
                ChannelWriter::new(protocol::STDOUT, exec.stdout.then(|| out_tx.clone()));
            let err_channel = if exec.tty {
                protocol::STDOUT
            } else {
                protocol::STDERR
            };
            let mut stderr = ChannelWriter::new(
                err_channel,
                (exec.stderr || exec.tty).then(|| out_tx.clone()),
            );
            let code = {
                let mut io = Io {
                    stdin: &mut stdin,
                    stdout: &mut stdout,
                    stderr: &mut stderr,
                    cancel: &cancel,
                };
                shell::run_argv(&exec.command, &container, &mut io)
            };
            let _ = stdout.flush();
            let _ = stderr.flush();
            // The output queue closes only now, which is how the session learns the end.
            drop(out_tx);
            code
        })
    };

    let mut stdout_sent: u64 = 0;
    let mut pending_stdin: Option<Bytes> = None;
    let mut reading = true;
    loop {
        let mut close_stdin = false;
        tokio::select! {
            biased;
            frame = out_rx.recv() => {
                let Some(frame) = frame else { break };
                if frame.first() == Some(&protocol::STDOUT)
                    && let Some(limit) = break_after
                {
                    let payload = (frame.len() - 1) as u64;
                    if stdout_sent + payload >= limit {
                        let keep = usize::try_from(limit - stdout_sent).unwrap_or(usize::MAX).min(frame.len() - 1);
                        if keep > 0 {
                            let _ = ws.send(Message::Binary(frame.slice(..keep + 1))).await;
                        }
                        tracing::info!(bytes = limit, "exec fault: breaking the stream");
                        return; // dropping the socket without a close frame
                    }
                    stdout_sent += payload;
                }
                if let Err(e) = ws.send(Message::Binary(frame)).await {
                    tracing::debug!(error = %e, "exec client went away while sending output");
                    return;
                }
            }
            permit = reserve(&in_tx), if pending_stdin.is_some() => {
                match (permit, pending_stdin.take()) {
                    (Some(permit), Some(data)) => permit.send(data),
                    _ => close_stdin = true, // the command stopped reading stdin
                }
            }
            msg = ws.next(), if reading && pending_stdin.is_none() => match msg {
                Some(Ok(Message::Binary(data))) => match protocol::decode(protocol, &data) {
                    Inbound::Stdin(bytes) if !bytes.is_empty() && in_tx.is_some() => pending_stdin = Some(bytes),
                    Inbound::StdinEof => close_stdin = true,
                    Inbound::Stdin(_) | Inbound::Resize | Inbound::Ignored => {}
                },
                Some(Ok(Message::Close(_))) => {
                    // v4 clients close the socket to say "end of stdin"; output can no longer
                    // be delivered, but a command that only reads stdin may still finish.
                    close_stdin = true;
                    reading = false;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "exec client connection failed");
                    return;
                }
                None => return,
            },
        }
        if close_stdin {
            in_tx = None;
        }
    }

    let code = match task.await {
        Ok(code) => code,
        Err(e) => {
            tracing::warn!(error = %e, "exec command task failed");
            -1
        }
    };
    guard.1 = true;
    let status = if code < 0 {
        protocol::internal_error("command failed to run")
    } else {
        protocol::exit_status(&command, code)
    };
    tracing::debug!(?command, code, "exec finished");
    let body = serde_json::to_vec(&status).unwrap_or_default();
    if ws
        .send(Message::Binary(protocol::encode(protocol::ERROR, &body)))
        .await
        .is_err()
    {
        return;
    }
    // A close without a code reads as 1005 to gorilla/websocket, which client-go (kubectl)
    // reports as an error on every stream: close normally, as the apiserver does.
    let normal = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = ws.close(Some(normal)).await;
    // Wait (briefly) for the client to finish, so closing the TCP connection cannot reset
    // frames still in flight.
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
}

async fn reserve(tx: &Option<mpsc::Sender<Bytes>>) -> Option<mpsc::Permit<'_, Bytes>> {
    match tx {
        Some(tx) => tx.reserve().await.ok(),
        None => None,
    }
}
