//! Fuzzes the parsers of what a mirror and a witness take from the network beyond
//! add-checkpoint: tlog-mirror `add-entries` bodies and `mirror-info` answers, and
//! tlog-witness `sign-subtree` bodies. Whatever parses must encode back to itself.
#![no_main]
use glasslog_merkle::{AddEntries, MirrorInfo, SignSubtree, package_ranges};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = AddEntries::parse(data) {
        let h = &req.header;
        assert!(h.upload_start <= h.upload_end);
        assert!(
            package_ranges(h.upload_start, h.upload_end)
                .take(req.packages.len())
                .count()
                == req.packages.len()
        );
        assert!(req.packages.iter().all(|p| p.proof.len() <= 63));
        assert_eq!(AddEntries::parse(&req.encode().unwrap()), Ok(req));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(info) = MirrorInfo::parse(text) {
            assert_eq!(MirrorInfo::parse(&info.to_body()), Ok(info));
        }
    }
    if let Ok(req) = SignSubtree::parse(data) {
        assert!(req.start < req.end);
        assert_eq!(SignSubtree::parse(req.to_body().as_bytes()), Ok(req));
    }
});
