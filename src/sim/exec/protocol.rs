//! The Kubernetes remote-command WebSocket protocol (`v4.channel.k8s.io`, `v5.channel.k8s.io`)
//! as a kube-apiserver serves it: subprotocol negotiation, the one-byte channel prefix of every
//! binary frame, the v5 close-stream message, and the JSON `Status` sent on the error channel.
//! Also the `Status` error bodies for requests refused before the upgrade.

use tokio_tungstenite::tungstenite::Bytes;

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// Error channel: carries one JSON `Status` when the command ends.
pub const ERROR: u8 = 3;
/// Terminal resize messages (JSON `{"Width":..,"Height":..}`); accepted and ignored.
pub const RESIZE: u8 = 4;
/// v5 only: `[255, channel]` says the client closed that stream (stdin EOF).
pub const CLOSE: u8 = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    V4,
    V5,
}

impl Protocol {
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::V4 => "v4.channel.k8s.io",
            Protocol::V5 => "v5.channel.k8s.io",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "v4.channel.k8s.io" => Some(Protocol::V4),
            "v5.channel.k8s.io" => Some(Protocol::V5),
            _ => None,
        }
    }
}

/// The protocol the server picks: the first one in the client's order that it supports, as
/// the apiserver's handshake does. The header may be repeated or comma-separated.
pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
    offered
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|p| Protocol::from_name(p.trim()))
}

/// A message from the client, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    Stdin(Bytes),
    /// The client closed its stdin (v5 close-stream message for channel 0).
    StdinEof,
    Resize,
    /// Anything else: empty frames, other channels, a close-stream for another channel.
    Ignored,
}

pub fn decode(protocol: Protocol, frame: &Bytes) -> Inbound {
    match frame.first() {
        Some(&STDIN) => Inbound::Stdin(frame.slice(1..)),
        Some(&RESIZE) => Inbound::Resize,
        Some(&CLOSE) if protocol == Protocol::V5 && frame.get(1) == Some(&STDIN) => {
            Inbound::StdinEof
        }
        _ => Inbound::Ignored,
    }
}

/// A binary frame for `channel`.
pub fn encode(channel: u8, data: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    Bytes::from(v)
}

/// The `Status` a kubelet writes on the error channel when the command has ended.
pub fn exit_status(command: &[String], code: i32) -> serde_json::Value {
    if code == 0 {
        return serde_json::json!({"metadata": {}, "status": "Success"});
    }
    serde_json::json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}
    })
}

/// The `Status` for a command that could not run at all.
pub fn internal_error(message: &str) -> serde_json::Value {
    serde_json::json!({
        "metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500
    })
}

/// A Kubernetes `Status` error response (for requests refused before the upgrade): the same
/// body every other sim error has ([`crate::sim::status::ApiError`]).
pub fn status_response(
    code: http::StatusCode,
    reason: &'static str,
    message: &str,
) -> axum::response::Response {
    crate::sim::status::ApiError::new(code.as_u16(), reason, message.to_string()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_client_order() {
        assert_eq!(
            negotiate(["v5.channel.k8s.io, v4.channel.k8s.io"]),
            Some(Protocol::V5)
        );
        assert_eq!(
            negotiate(["v4.channel.k8s.io,v5.channel.k8s.io"]),
            Some(Protocol::V4)
        );
        assert_eq!(
            negotiate(["channel.k8s.io", " v4.channel.k8s.io"]),
            Some(Protocol::V4)
        );
        assert_eq!(negotiate(["base64.channel.k8s.io", "channel.k8s.io"]), None);
        assert_eq!(negotiate([]), None);
    }

    #[test]
    fn frames_carry_a_channel_byte() {
        assert_eq!(&encode(STDOUT, b"hi")[..], &[1, b'h', b'i']);
        assert_eq!(&encode(ERROR, b"")[..], &[3]);
        let stdin = Bytes::from_static(&[0, b'x', b'y']);
        assert_eq!(
            decode(Protocol::V4, &stdin),
            Inbound::Stdin(Bytes::from_static(b"xy"))
        );
        let close = Bytes::from_static(&[255, 0]);
        assert_eq!(decode(Protocol::V5, &close), Inbound::StdinEof);
        assert_eq!(decode(Protocol::V4, &close), Inbound::Ignored);
        assert_eq!(
            decode(Protocol::V5, &Bytes::from_static(&[255, 1])),
            Inbound::Ignored
        );
        assert_eq!(
            decode(
                Protocol::V5,
                &Bytes::from_static(br#"{"Width":80,"Height":24}"#)
            ),
            Inbound::Ignored
        );
        assert_eq!(
            decode(Protocol::V5, &Bytes::from_static(&[4, b'{', b'}'])),
            Inbound::Resize
        );
        assert_eq!(decode(Protocol::V5, &Bytes::new()), Inbound::Ignored);
    }

    #[test]
    fn exit_status_matches_the_kubelet() {
        let ok = exit_status(&[], 0);
        assert_eq!(ok, serde_json::json!({"metadata": {}, "status": "Success"}));
        let bad = exit_status(&["false".into()], 3);
        assert_eq!(bad["reason"], "NonZeroExitCode");
        assert_eq!(bad["details"]["causes"][0]["reason"], "ExitCode");
        assert_eq!(bad["details"]["causes"][0]["message"], "3");
        let parsed: k8s_openapi::apimachinery::pkg::apis::meta::v1::Status =
            serde_json::from_value(bad).unwrap();
        assert_eq!(parsed.status.as_deref(), Some("Failure"));
    }
}
