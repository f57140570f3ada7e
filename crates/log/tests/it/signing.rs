//! A checkpoint key that cannot sign for a while (an HSM restarting, a token pulled out) delays
//! checkpoints and nothing else: appends are still durable and acknowledged, the log does not
//! halt, and once the key signs again a checkpoint covers everything, without a new append.

use crate::{ORIGIN, entry, signer};
use glasslog_log::{Log, LogConfig, MemoryStore};
use glasslog_merkle::{Ed25519Key, Ed25519Verifier, Note, SignError, Signer, VerifierSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A key in memory that refuses to sign while `down` is set, as a token would.
#[derive(Debug)]
struct Flaky {
    key: Signer,
    down: Arc<AtomicBool>,
    refusals: Arc<AtomicUsize>,
}

impl Ed25519Key for Flaky {
    fn verifier(&self) -> Ed25519Verifier {
        self.key.verifier()
    }

    fn sign_ed25519(&self, message: &[u8]) -> Result<[u8; 64], SignError> {
        if self.down.load(Ordering::SeqCst) {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            return Err(SignError::new("the token is not present"));
        }
        self.key.sign_ed25519(message)
    }
}

#[test]
fn a_key_that_cannot_sign_delays_checkpoints_and_loses_nothing() {
    let down = Arc::new(AtomicBool::new(false));
    let refusals = Arc::new(AtomicUsize::new(0));
    let key = Flaky {
        key: signer(),
        down: Arc::clone(&down),
        refusals: Arc::clone(&refusals),
    };
    let log = Log::open(
        Arc::new(MemoryStore::new()),
        glasslog_log::LogSigner::new(key, None).unwrap(),
        LogConfig::default(),
    )
    .unwrap();
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 0);

    down.store(true, Ordering::SeqCst);
    for i in 0..3 {
        let got = log
            .append_blocking((i * 10..i * 10 + 10).map(entry).collect())
            .unwrap();
        assert_eq!(got.len(), 10, "acknowledged while the key is down");
        assert_eq!(got[0].index, i * 10);
    }
    assert!(refusals.load(Ordering::SeqCst) >= 3, "the key was asked");
    assert_eq!(
        log.checkpoint().unwrap().checkpoint.size,
        0,
        "nothing signed"
    );

    // Back up: the sequencer signs on its own, with no new append to prompt it.
    down.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    while log.checkpoint().unwrap().checkpoint.size < 30 {
        assert!(
            Instant::now() < deadline,
            "no checkpoint after the key came back"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let signed = log.checkpoint().unwrap();
    let set = VerifierSet::from_vkeys([signer().vkey().as_str()]).unwrap();
    let note = Note::open(signed.note.as_bytes(), &set).unwrap();
    assert!(note.text.starts_with(ORIGIN));
    assert_eq!(log.append_blocking(vec![entry(30)]).unwrap()[0].index, 30);
    assert_eq!(log.checkpoint().unwrap().checkpoint.size, 31);
    log.verify().unwrap();
}
