//! `Auditor`: a whole tree verifies tile by tile, every entry handed out once; an altered
//! entry or upper tile is named as the first bad tile; an audit resumes from its state.

use crate::{Static, entries};
use glasslog_client::{Auditor, Error};

#[test]
fn an_audit_sees_every_entry_once_and_resumes() {
    let log = Static::start();
    let client = log.client();
    let all = entries(70_000, "c");
    log.publish(&all);
    let mut a = Auditor::new(&client, Auditor::start(client.checkpoint().unwrap()));
    let mut seen = Vec::new();
    // Half, then a new auditor from the saved state, as after an interruption.
    for _ in 0..a.tiles() / 2 {
        a.next_tile(&mut |at, e: &[u8]| seen.push((at, e.len())))
            .unwrap();
    }
    let state = a.state().clone();
    let mut a = Auditor::new(&client, state);
    while !a.is_done() {
        a.next_tile(&mut |at, e: &[u8]| seen.push((at, e.len())))
            .unwrap();
    }
    a.finish().unwrap();
    assert_eq!(seen.len(), all.len());
    assert!(seen.iter().enumerate().all(|(i, (at, _))| *at == i as u64));
}

#[test]
fn altered_entries_and_upper_tiles_name_the_first_bad_tile() {
    let log = Static::start();
    let client = log.client();
    let all = entries(70_000, "d");
    log.publish(&all);
    let cp = client.checkpoint().unwrap();
    let run = |client: &glasslog_client::Client| {
        let mut a = Auditor::new(client, Auditor::start(cp.clone()));
        while !a.is_done() {
            a.next_tile(&mut |_, _| {})?;
        }
        a.finish()
    };
    run(&client).unwrap();
    log.alter("/tile/entries/003", |b| {
        let last = b.len() - 3;
        b[last] ^= 1;
    });
    let err = run(&client).unwrap_err();
    assert!(
        matches!(&err, Error::Lied(m) if m.contains("first bad tile: tile/entries/003")),
        "{err}"
    );
    // Restore it and alter a level-1 tile instead.
    log.publish(&all);
    log.alter("/tile/1/000", |t| t[5] ^= 1);
    let err = run(&client).unwrap_err();
    assert!(
        matches!(&err, Error::Lied(m) if m.contains("tile/1/0 does not match the entries below it")),
        "{err}"
    );
}
