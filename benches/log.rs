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
use glasslog_benches::{entry, rocks_log};
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

criterion_group!(benches, append, proofs);
criterion_main!(benches);
