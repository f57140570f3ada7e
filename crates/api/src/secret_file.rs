//! Files that hold secrets (the token hashes, the fingerprint key) are owner-only.

use std::path::Path;

/// Refuses a secret file that others than its owner may read or write, as the signing key's
/// loader does: a token hash file or fingerprint key readable by the group is a leak waiting.
/// A file that does not exist yet passes (it is created with mode 0600).
pub(crate) fn owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("mode {mode:o}; it must be readable by its owner only (chmod 600)"),
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
