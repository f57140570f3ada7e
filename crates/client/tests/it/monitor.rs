//! `Monitor`: growth passes and hands out exactly the new entries; a fork, a rollback and a
//! level-0 tile that does not hash into the root are evidence.

use crate::{Static, entries};
use glasslog_client::{Error, Monitor};

fn seen(m: &mut Monitor<'_>) -> Result<Vec<u64>, Error> {
    let mut got = Vec::new();
    let mut each = |at: u64, _: &[u8]| got.push(at);
    m.poll(Some(&mut each))?;
    Ok(got)
}

#[test]
fn a_monitor_follows_growth_and_catches_forks_and_rollbacks() {
    let log = Static::start();
    let client = log.client();
    let all = entries(900, "a");
    log.publish(&all[..300]);
    let mut m = Monitor::new(&client, None);
    assert_eq!(
        seen(&mut m).unwrap(),
        Vec::<u64>::new(),
        "nothing to compare yet"
    );
    log.publish(&all[..700]);
    assert_eq!(seen(&mut m).unwrap(), (300..700).collect::<Vec<_>>());
    // The same head again: fine, nothing new.
    assert!(seen(&mut m).unwrap().is_empty());
    // A log that rewrote entry 100 and grew: not an extension of what was seen.
    let mut forked = all.clone();
    forked[100] = b"{\"entry\":100,\"tag\":\"rewritten\"}".to_vec();
    log.publish(&forked[..800]);
    let err = seen(&mut m).unwrap_err();
    assert!(
        matches!(&err, Error::Lied(m) if m.contains("fork")),
        "{err}"
    );
    // A smaller head than the last good one: a rollback.
    log.publish(&all[..500]);
    let mut m = Monitor::new(&client, None);
    m.poll(None).unwrap();
    log.publish(&all[..700]);
    m.poll(None).unwrap();
    log.publish(&all[..500]);
    let err = m.poll(None).unwrap_err();
    assert!(
        matches!(&err, Error::Lied(m) if m.contains("rollback")),
        "{err}"
    );
    assert_eq!(
        m.last().unwrap().checkpoint.size,
        700,
        "the last good head stays"
    );
}

#[test]
fn a_level_0_tile_that_does_not_hash_into_the_root_is_caught() {
    let log = Static::start();
    let client = log.client();
    let all = entries(600, "b");
    log.publish(&all[..256]);
    let mut m = Monitor::new(&client, None);
    m.poll(None).unwrap();
    log.publish(&all);
    // Entry 300 and its hash in tile 0/1 altered together: the bundle matches its tile.
    let altered = b"{\"entry\":300,\"tag\":\"altered\"}".to_vec();
    log.alter("/tile/entries/001", |bundle| {
        let at = bundle
            .windows(all[300].len())
            .position(|w| w == all[300].as_slice())
            .unwrap();
        bundle.splice(at..at + all[300].len(), altered.iter().copied());
        bundle.splice(at - 2..at, (altered.len() as u16).to_be_bytes());
    });
    log.alter("/tile/0/001", |tile| {
        tile[44 * 32..45 * 32].copy_from_slice(&glasslog_merkle::leaf_hash(&altered).0);
    });
    let err = seen(&mut m).unwrap_err();
    assert!(
        matches!(&err, Error::Lied(m) if m.contains("tile 0/1 does not hash into the signed root")),
        "{err}"
    );
}
