//! Real loopback handshakes with rcgen-made certificates through the recording verifier:
//! every outcome named, the chain kept when verification fails, deadlines per phase.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ondeck::tls::pki::{self, Made};
use ondeck::tls::{ChainPosition, Deadlines, HandshakeError, Outcome, Request, Trust, handshake};
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;

fn trust(roots: &[&Made]) -> Trust {
    let mut store = RootCertStore::empty();
    for r in roots {
        store.add(r.der.clone()).expect("root");
    }
    Trust::Store(Arc::new(store))
}

async fn serve(chain: &[&Made]) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let ders: Vec<CertificateDer<'static>> = chain.iter().map(|m| m.der.clone()).collect();
    pki::serve(ders, chain[0].key_der()).await.expect("serve")
}

fn req(addr: std::net::SocketAddr, name: &str, trust: Trust) -> Request {
    let mut r = Request::new(addr.to_string());
    r.server_name = Some(name.to_string());
    r.trust = trust;
    r.deadlines = Deadlines {
        connect: Duration::from_secs(3),
        handshake: Duration::from_secs(5),
    };
    r
}

async fn outcome_of(chain: &[&Made], name: &str, roots: &[&Made]) -> ondeck::tls::Handshake {
    let (addr, task) = serve(chain).await;
    let hs = handshake(&req(addr, name, trust(roots)))
        .await
        .expect("handshake completes");
    task.abort();
    hs
}

#[tokio::test]
async fn a_good_chain_verifies() {
    let root = pki::ca("Test Root", -10, 3650);
    let inter = pki::intermediate(&root, "Test Intermediate", -10, 1000);
    let leaf = pki::leaf(&inter, "localhost", &["localhost", "127.0.0.1"], -1, 90);
    let hs = outcome_of(&[&leaf, &inter], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::Ok);
    assert_eq!(hs.recorded.chain.len(), 2);
    assert_eq!(hs.version, "TLS 1.3");
    assert_eq!(hs.recorded.name_matches, Some(true));
    let facts = hs.recorded.facts();
    assert_eq!(facts[0].subject, "localhost");
    assert_eq!(facts[0].position, ChainPosition::Leaf);
    assert_eq!(facts[1].subject, "Test Intermediate");
    assert_eq!(facts[1].position, ChainPosition::Intermediate);
}

#[tokio::test]
async fn expired_is_named_and_its_chain_recorded() {
    let root = pki::ca("Test Root", -400, 3650);
    let leaf = pki::leaf(&root, "localhost", &["localhost"], -300, -2);
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::Expired);
    assert_eq!(hs.recorded.outcome.code(), "expired");
    let facts = hs.recorded.facts();
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].days_left(jiff::Timestamp::now()), Some(-2));
    assert_eq!(facts[0].sha256.len(), 64);
}

#[tokio::test]
async fn not_yet_valid_is_named() {
    let root = pki::ca("Test Root", -10, 3650);
    let leaf = pki::leaf(&root, "localhost", &["localhost"], 2, 90);
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::NotYetValid);
}

#[tokio::test]
async fn expiry_is_judged_at_the_given_now() {
    let root = pki::ca("Test Root", -10, 3650);
    let leaf = pki::leaf(&root, "localhost", &["localhost"], -1, 30);
    let (addr, task) = serve(&[&leaf]).await;
    let mut r = req(addr, "localhost", trust(&[&root]));
    r.now = Some(jiff::Timestamp::now() + jiff::SignedDuration::from_hours(40 * 24));
    let hs = handshake(&r).await.expect("handshake");
    task.abort();
    assert_eq!(hs.recorded.outcome, Outcome::Expired);
}

#[tokio::test]
async fn name_mismatch_is_named() {
    let root = pki::ca("Test Root", -10, 3650);
    let leaf = pki::leaf(&root, "other.example.test", &["other.example.test"], -1, 90);
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::NameMismatch);
    assert_eq!(hs.recorded.name_matches, Some(false));
    assert_eq!(hs.recorded.facts()[0].subject, "other.example.test");
}

#[tokio::test]
async fn a_name_mismatch_is_known_even_when_expired() {
    let root = pki::ca("Test Root", -400, 3650);
    let leaf = pki::leaf(
        &root,
        "other.example.test",
        &["other.example.test"],
        -300,
        -1,
    );
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::Expired);
    assert_eq!(hs.recorded.name_matches, Some(false));
}

#[tokio::test]
async fn self_signed_is_untrusted() {
    let other_root = pki::ca("Some Other Root", -10, 3650);
    let selfsigned =
        pki::try_leaf_secs(None, "localhost", &["localhost"], -86_400, 86_400 * 90).expect("leaf");
    let hs = outcome_of(&[&selfsigned], "localhost", &[&other_root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::UnknownIssuer);
    assert_eq!(hs.recorded.outcome.code(), "untrusted");
    assert!(hs.recorded.facts()[0].self_issued);
}

#[tokio::test]
async fn a_linked_chain_to_an_unknown_root_is_untrusted() {
    let private_root = pki::ca("Private Root", -10, 3650);
    let inter = pki::intermediate(&private_root, "Private Intermediate", -10, 1000);
    let leaf = pki::leaf(&inter, "localhost", &["localhost"], -1, 90);
    let trusted = pki::ca("Public Root", -10, 3650);
    let hs = outcome_of(&[&leaf, &inter], "localhost", &[&trusted]).await;
    assert_eq!(hs.recorded.outcome, Outcome::UnknownIssuer);
    assert_eq!(hs.recorded.chain.len(), 2);
}

#[tokio::test]
async fn leaf_only_with_a_trusted_root_is_an_incomplete_chain() {
    let root = pki::ca("Test Root", -10, 3650);
    let inter = pki::intermediate(&root, "Test Intermediate", -10, 1000);
    let leaf = pki::leaf(&inter, "localhost", &["localhost"], -1, 90);
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::IncompleteChain);
    assert_eq!(hs.recorded.outcome.code(), "incomplete_chain");
    // The same leaf with its intermediate verifies: the verdict is about the chain sent.
    let hs = outcome_of(&[&leaf, &inter], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::Ok);
}

#[tokio::test]
async fn a_forged_issuer_name_is_a_bad_signature() {
    let root = pki::ca("Same Name Root", -10, 3650);
    let impostor = pki::ca("Same Name Root", -10, 3650);
    let leaf = pki::leaf(&impostor, "localhost", &["localhost"], -1, 90);
    let hs = outcome_of(&[&leaf], "localhost", &[&root]).await;
    assert_eq!(hs.recorded.outcome, Outcome::BadSignature);
}

#[tokio::test]
async fn a_black_hole_hits_the_handshake_deadline_without_delaying_others() {
    let (hole, hole_task) = pki::black_hole().await.expect("listener");
    let root = pki::ca("Test Root", -10, 3650);
    let leaf = pki::leaf(&root, "localhost", &["localhost"], -1, 90);
    let (good, good_task) = serve(&[&leaf]).await;
    let deadline = Duration::from_millis(800);
    let mk = |addr| {
        let mut r = req(addr, "localhost", trust(&[&root]));
        r.deadlines.handshake = deadline;
        r
    };
    let (r_hole, r_good) = (mk(hole), mk(good));
    let start = Instant::now();
    let hole_fut = async {
        let r = handshake(&r_hole).await;
        (r, start.elapsed())
    };
    let good_fut = async {
        let r = handshake(&r_good).await;
        (r, start.elapsed())
    };
    let ((hole_res, hole_took), (good_res, good_took)) = tokio::join!(hole_fut, good_fut);
    hole_task.abort();
    good_task.abort();
    match &hole_res {
        Err(e @ HandshakeError::HandshakeTimeout { after, .. }) => {
            assert_eq!(*after, deadline);
            assert_eq!(e.phase(), "tls");
            assert!(e.to_string().contains("timed out after 800ms"), "{e}");
        }
        other => panic!("expected a handshake timeout, got {other:?}"),
    }
    assert!(hole_took >= deadline, "{hole_took:?}");
    assert!(hole_took < deadline * 3, "{hole_took:?}");
    let hs = good_res.expect("the good endpoint answers");
    assert_eq!(hs.recorded.outcome, Outcome::Ok);
    assert!(
        good_took < deadline,
        "the good endpoint waited for the black hole: {good_took:?}"
    );
}

#[tokio::test]
async fn refused_names_the_connect_phase() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    let err = handshake(&req(addr, "localhost", Trust::Pem(Vec::new())))
        .await
        .expect_err("no trust");
    // Empty trust is reported before connecting, as a config error.
    assert_eq!(err.phase(), "config");
    let root = pki::ca("Test Root", -10, 3650);
    let err = handshake(&req(addr, "localhost", trust(&[&root])))
        .await
        .expect_err("refused");
    assert!(matches!(err, HandshakeError::Refused { .. }), "{err:?}");
    assert_eq!(err.phase(), "connect");
    assert!(err.to_string().ends_with("refused"), "{err}");
}

#[tokio::test]
async fn non_pem_ca_data_is_said_to_be_not_pem() {
    let err =
        ondeck::tls::handshake::roots_from_pem(b"\x30\x82\x01\x00garbage").expect_err("not pem");
    assert!(err.to_string().contains("not PEM"), "{err}");
}

/// A server that presents a CA certificate as its own (openssl's default self-signed
/// certificate is one) is refused by the verifier; the reason is said in words, not as the
/// library's debug form.
#[tokio::test]
async fn a_ca_certificate_served_as_the_leaf_is_named_in_words() {
    let root = pki::ca("Test Root", -10, 3650);
    let hs = outcome_of(&[&root], "localhost", &[&root]).await;
    let words = hs.recorded.outcome.words();
    assert!(!hs.recorded.outcome.is_ok(), "{words}");
    assert!(words.contains("CA certificate"), "{words}");
    assert!(!words.contains("OtherError"), "{words}");
}
