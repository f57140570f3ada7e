//! The server's one clock: receive times, deadlines and break-glass times all read it.

/// Milliseconds since the Unix epoch: the receive time the server stamps.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
