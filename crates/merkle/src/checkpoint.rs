//! C2SP tlog-checkpoint: the signed tree head's text (origin, size, root, extension lines).

use crate::hash::Hash;
use std::fmt;

/// A checkpoint body: the text a log signs as its tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, e.g. `example.com/log`.
    pub origin: String,
    /// The number of entries.
    pub size: u64,
    /// The RFC 6962 root of those entries.
    pub root: Hash,
    /// Opaque extension lines, without their newlines.
    pub extensions: Vec<String>,
}

/// Why checkpoint text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Fewer than three lines, an empty line, or no final newline.
    #[error("a checkpoint is at least three non-empty lines, each ending in a newline")]
    Lines,
    /// The size is not canonical ASCII decimal, or does not fit in 64 bits.
    #[error("the tree size must be decimal without leading zeros")]
    Size,
    /// The root is not base64 of 32 bytes.
    #[error("the root hash must be base64 of 32 bytes")]
    Root,
}

/// Parses a canonical decimal: digits only, no sign, no leading zeros (but "0").
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Parses checkpoint text: the signed part of a note, ending in a newline.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Lines)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Lines);
        };
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if origin.is_empty() || extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Lines);
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size: parse_decimal(size).ok_or(CheckpointError::Size)?,
            root: Hash::from_base64(root).map_err(|_| CheckpointError::Root)?,
            extensions,
        })
    }

    /// The text to sign.
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        )?;
        for e in &self.extensions {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::EMPTY_ROOT;

    #[test]
    fn round_trip_and_rejections() {
        let cp = Checkpoint::new("example.com/log", 12, EMPTY_ROOT);
        assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp.clone()));
        let root = EMPTY_ROOT.to_base64();
        for (bad, want) in [
            (format!("o\n012\n{root}\n"), CheckpointError::Size),
            (format!("o\n-1\n{root}\n"), CheckpointError::Size),
            (
                format!("o\n18446744073709551616\n{root}\n"),
                CheckpointError::Size,
            ),
            (format!("o\n1\n{root}"), CheckpointError::Lines),
            (format!("\n1\n{root}\n"), CheckpointError::Lines),
            (format!("o\n1\n{root}\n\n"), CheckpointError::Lines),
            ("o\n1\n".to_owned(), CheckpointError::Lines),
            ("o\n1\nAAAA\n".to_owned(), CheckpointError::Root),
        ] {
            assert_eq!(Checkpoint::parse(&bad), Err(want), "{bad:?}");
        }
        let ext = format!("o\n0\n{root}\nextra line\n");
        assert_eq!(
            Checkpoint::parse(&ext).unwrap().extensions,
            vec!["extra line"]
        );
    }
}
