//! Fuzzes tile path parsing: anything accepted prints back to the same path.
#![no_main]
use glasslog_merkle::Tile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    if let Ok((tile, entries)) = Tile::parse_path(path) {
        let again = if entries { tile.entries_path() } else { tile.path() };
        assert_eq!(again, path, "accepted paths are canonical");
    }
});
