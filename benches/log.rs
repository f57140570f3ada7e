//! Criterion benchmarks of the log: durable append throughput by batch size, and proof
//! latency on a log of a million entries beside an in-memory tree and `rs_merkle`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    missing_docs,
    reason = "benchmark set-up: failures abort the run, and sizes fit in usize"
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use glasslog_benches::{entry, rocks_log, sealed_rocks_log};
use glasslog_log::seal::{MasterKey, Scope};
use glasslog_merkle::{
    Hash, MemoryHashes, consistency_proof, hash_children, inclusion_proof, leaf_hash,
};
use std::hint::black_box;
use std::time::Duration;

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append_1KiB_fsync");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    for batch in [1usize, 100, 1000] {
        let dir = tempfile::tempdir().unwrap();
        let log = rocks_log(dir.path());
        let mut next = 0u64;
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(BenchmarkId::from_parameter(batch), |b| {
            b.iter(|| {
                let entries = (next..next + batch as u64)
                    .map(|i| entry(i, 1024))
                    .collect();
                next += batch as u64;
                black_box(log.append_blocking(entries).unwrap());
            })
        });
    }
    g.finish();
}

/// Encryption at rest: the CPU a sealed entry adds (seal, open, one keyed tag), and durable
/// batched appends of a sealed log beside a clear one, in the same run.
fn sealing(c: &mut Criterion) {
    let m = MasterKey::from_bytes(&[1; 32]);
    let scope = Scope {
        subject: "actor:alice",
        source: "billing",
        epoch: 20_000,
    };
    let (id, key, _) = m.new_data_key(&scope, 0).unwrap();
    let plain = vec![b'x'; 1024];
    let mut g = c.benchmark_group("seal_1KiB");
    g.throughput(Throughput::Bytes(1024));
    g.bench_function("seal", |b| {
        b.iter(|| black_box(m.seal(&id, &key, &plain).unwrap()))
    });
    let record = m.seal(&id, &key, &plain).unwrap();
    g.bench_function("open", |b| {
        b.iter(|| black_box(m.open(&key, &record).unwrap()))
    });
    g.bench_function("tag", |b| b.iter(|| black_box(m.tag("q:actor:alice"))));
    g.finish();

    let mut g = c.benchmark_group("append_1KiB_fsync_sealed_vs_clear");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(1000));
    for (name, sealed) in [("clear", false), ("sealed", true)] {
        let dir = tempfile::tempdir().unwrap();
        let log = if sealed {
            sealed_rocks_log(dir.path())
        } else {
            rocks_log(dir.path())
        };
        let mut next = 0u64;
        g.bench_function(name, |b| {
            b.iter(|| {
                // Twenty tags an entry, as a searchable audit event carries.
                let entries = (next..next + 1000)
                    .map(|i| {
                        let mut e = entry(i, 1024);
                        e.tags = (0..20)
                            .map(|t| format!("q:word:w{}", (i * 7 + t) % 5000))
                            .collect();
                        e.subject = Some(glasslog_log::Subject {
                            subject: format!("actor:svc-{}", i % 97),
                            source: "bench".into(),
                            received_ms: 1_750_000_000_000,
                        });
                        e
                    })
                    .collect();
                next += 1000;
                black_box(log.append_blocking(entries).unwrap());
            })
        });
    }
    g.finish();
}

#[derive(Clone)]
struct Rfc6962;
impl rs_merkle::Hasher for Rfc6962 {
    type Hash = [u8; 32];
    fn hash(data: &[u8]) -> [u8; 32] {
        leaf_hash(data).0
    }
    fn concat_and_hash(l: &[u8; 32], r: Option<&[u8; 32]>) -> [u8; 32] {
        r.map_or(*l, |r| hash_children(l, r).0)
    }
}

/// A cheap deterministic sequence of positions, so every run asks for the same proofs.
fn positions(n: u64) -> impl FnMut() -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    }
}

fn proofs(c: &mut Criterion) {
    const N: u64 = 1 << 20;
    let dir = tempfile::tempdir().unwrap();
    let log = rocks_log(dir.path());
    let mut mem = MemoryHashes::new();
    let mut leaves: Vec<[u8; 32]> = Vec::with_capacity(N as usize);
    for start in (0..N).step_by(4096) {
        let batch: Vec<_> = (start..start + 4096).map(|i| entry(i, 64)).collect();
        for a in log.append_blocking(batch).unwrap() {
            mem.push(a.leaf_hash);
            leaves.push(a.leaf_hash.0);
        }
    }
    let tree = rs_merkle::MerkleTree::<Rfc6962>::from_leaves(&leaves);
    assert_eq!(tree.root().map(Hash), Some(mem.root()));
    // Warm the cache the way a serving log is warm.
    let mut pos = positions(N);
    for _ in 0..20_000 {
        black_box(log.inclusion_proof(pos(), N).unwrap());
    }

    let mut g = c.benchmark_group("inclusion_proof_1M");
    let mut pos = positions(N);
    g.bench_function("glasslog_rocksdb", |b| {
        b.iter(|| black_box(log.inclusion_proof(pos(), N).unwrap()))
    });
    let mut pos = positions(N);
    g.bench_function("glasslog_by_hash_rocksdb", |b| {
        b.iter(|| {
            let leaf = Hash(leaves[pos() as usize]);
            black_box(log.inclusion_proof_by_hash(&leaf, N).unwrap())
        })
    });
    let mut pos = positions(N);
    g.bench_function("in_memory_tree", |b| {
        b.iter(|| black_box(inclusion_proof(pos(), N, &mem).unwrap()))
    });
    let mut pos = positions(N);
    g.bench_function("rs_merkle", |b| {
        b.iter(|| black_box(tree.proof(&[pos() as usize])))
    });
    g.finish();

    let mut g = c.benchmark_group("consistency_proof_1M");
    let mut pos = positions(N - 1);
    g.bench_function("glasslog_rocksdb", |b| {
        b.iter(|| black_box(log.consistency_proof(pos() + 1, N).unwrap()))
    });
    let mut pos = positions(N - 1);
    g.bench_function("in_memory_tree", |b| {
        b.iter(|| black_box(consistency_proof(pos() + 1, N, &mem).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, append, proofs, sealing);
criterion_main!(benches);
