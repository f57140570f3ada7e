//! The client library's monitor and auditor against a static tile server in this process: a
//! tree built here from the entries, served as C2SP tiles, bundles and a signed checkpoint,
//! with the forks, rollbacks and altered bytes a log could serve.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs,
    reason = "tests: a failed expectation is the test failing"
)]

mod audit;
mod monitor;

use glasslog_client::Client;
use glasslog_merkle::{
    Checkpoint, Hash, Signer, Tile, encode_entry_bundle, leaf_hash, node_hash, tiles_for_size,
};
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

pub const ORIGIN: &str = "example.com/static";

/// RFC 6962 MTH, computed independently of the merkle crate's proofs.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => glasslog_merkle::EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - (n - 1).leading_zeros() - 1);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// A log served as static files: whatever `publish` put there, and nothing checks it.
pub struct Static {
    pub base: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    pub signer: Signer,
}

impl Static {
    pub fn start() -> Static {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let served = Arc::clone(&files);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let body = served.lock().unwrap().get(&path).cloned();
                let mut stream = stream;
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        Static {
            base,
            files,
            signer: Signer::from_seed(ORIGIN, [4; 32]).unwrap(),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base, &self.signer.vkey(), None).unwrap()
    }

    /// Publishes the tree of `entries`: its tiles and bundles (added to what is there, as a
    /// growing log keeps its old partial tiles) and its signed checkpoint.
    pub fn publish(&self, entries: &[Vec<u8>]) {
        let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
        let size = leaves.len() as u64;
        let mut files = self.files.lock().unwrap();
        for tile in tiles_for_size(size) {
            files.insert(format!("/{}", tile.path()), tile_bytes(&leaves, tile));
            if tile.level == 0 {
                let start = (tile.index * 256) as usize;
                let bundle = encode_entry_bundle(
                    entries[start..start + usize::from(tile.width)]
                        .iter()
                        .map(Vec::as_slice),
                )
                .unwrap();
                files.insert(format!("/{}", tile.entries_path()), bundle);
            }
        }
        let cp = Checkpoint::new(ORIGIN, size, mth(&leaves));
        files.insert(
            "/checkpoint".into(),
            self.signer.sign_note(&cp.to_text()).into_bytes(),
        );
    }

    /// Replaces a served file's bytes.
    pub fn alter(&self, path: &str, f: impl FnOnce(&mut Vec<u8>)) {
        let mut files = self.files.lock().unwrap();
        f(files.get_mut(path).unwrap());
    }
}

/// The hashes of `tile`: nodes at level 8·L, each the MTH of its leaves.
fn tile_bytes(leaves: &[Hash], tile: Tile) -> Vec<u8> {
    let span = 1usize << (8 * u32::from(tile.level));
    (0..usize::from(tile.width))
        .flat_map(|i| {
            let start = (tile.index as usize * 256 + i) * span;
            mth(&leaves[start..start + span]).0
        })
        .collect()
}

/// `n` distinct entries, the `i`-th saying `tag` and `i`.
pub fn entries(n: usize, tag: &str) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("{{\"entry\":{i},\"tag\":\"{tag}\"}}").into_bytes())
        .collect()
}
