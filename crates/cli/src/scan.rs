//! `glasslog scan`: the ingest detectors over files, for CI pipelines, with text, JSON Lines
//! and SARIF 2.1.0 output.

use anyhow::{Context as _, Result};
use glasslog_ingest::{Finding, PolicyConfig, Sanitizer};
use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Output formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    /// `path:line:column: rule fingerprint`, one finding per line.
    Text,
    /// JSON Lines: one object per finding.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

/// `glasslog scan` arguments.
#[derive(clap::Args)]
pub struct Args {
    /// Files or directories to scan; standard input when none.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// A policy file (rules, custom rules, allow-lists) as the server uses.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Also look for personal data (card numbers, SSNs).
    #[arg(long)]
    pii: bool,
    /// A file of 32 bytes keying the fingerprints, to compare them across runs or with a
    /// server's. Without it each run uses a random key.
    #[arg(long)]
    fingerprint_key: Option<PathBuf>,
}

struct FileFinding {
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    finding: Finding,
}

/// One-based line and column (in characters) of byte offset `at`.
fn position(text: &str, line_starts: &[usize], at: usize) -> (usize, usize) {
    let line = line_starts.partition_point(|s| *s <= at).max(1);
    let start = line_starts[line - 1];
    (
        line,
        text.get(start..at).map_or(0, |s| s.chars().count()) + 1,
    )
}

fn scan_text(sanitizer: &Sanitizer, path: &str, text: &str, out: &mut Vec<FileFinding>) {
    let mut findings = Vec::new();
    sanitizer.redactor().redact_text(text, None, &mut findings);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for f in findings {
        let (line, column) = position(text, &line_starts, f.start);
        let (end_line, end_column) = position(text, &line_starts, f.end);
        out.push(FileFinding {
            path: path.to_owned(),
            line,
            column,
            end_line,
            end_column,
            finding: f,
        });
    }
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_none_or(|n| n != ".git"))
            .collect();
        entries.sort();
        for p in entries {
            collect_files(&p, files)?;
        }
    } else {
        files.push(path.to_owned());
    }
    Ok(())
}

/// Runs the scan and returns the exit status.
pub fn run(args: &Args) -> Result<ExitCode> {
    let mut policy = match &args.policy {
        Some(p) => PolicyConfig::from_toml(
            &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
        )?,
        None => PolicyConfig::default(),
    };
    policy.detection.pii |= args.pii;
    let mut key = [0u8; 32];
    match &args.fingerprint_key {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            key = bytes.as_slice().try_into().map_err(|_| {
                anyhow::anyhow!("{}: a fingerprint key is exactly 32 bytes", p.display())
            })?;
        }
        None => getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?,
    }
    let sanitizer = Sanitizer::new(policy, key)?;
    let mut found = Vec::new();
    if args.paths.is_empty() {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("standard input is not UTF-8 text")?;
        scan_text(&sanitizer, "-", &text, &mut found);
    } else {
        let mut files = Vec::new();
        for p in &args.paths {
            collect_files(p, &mut files)?;
        }
        for f in files {
            let bytes =
                std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
            match String::from_utf8(bytes) {
                Ok(text) => scan_text(&sanitizer, &f.display().to_string(), &text, &mut found),
                Err(_) => eprintln!("glasslog: skipping {}: not UTF-8 text", f.display()),
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            for f in &found {
                writeln!(
                    stdout,
                    "{}:{}:{}: {} {}",
                    f.path, f.line, f.column, f.finding.rule, f.finding.fingerprint
                )?;
            }
        }
        Format::Json => {
            for f in &found {
                let line = json!({
                    "path": f.path, "rule": f.finding.rule, "start": f.finding.start, "end": f.finding.end,
                    "line": f.line, "column": f.column, "fingerprint": f.finding.fingerprint,
                    "checksum_valid": f.finding.checksum_valid,
                });
                writeln!(stdout, "{line}")?;
            }
        }
        Format::Sarif => writeln!(stdout, "{}", sarif(&sanitizer, &found))?,
    }
    Ok(if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sarif(sanitizer: &Sanitizer, found: &[FileFinding]) -> Value {
    let mut rules: Vec<Value> = sanitizer
        .redactor()
        .detector()
        .rules()
        .iter()
        .map(|r| json!({ "id": r.id, "shortDescription": { "text": r.description } }))
        .collect();
    rules.push(json!({ "id": glasslog_ingest::redact::JSON_FIELD_RULE, "shortDescription": { "text": "Value under a JSON key that names a credential" } }));
    let results: Vec<Value> = found
        .iter()
        .map(|f| {
            json!({
                "ruleId": f.finding.rule,
                "level": "error",
                "message": { "text": format!("Possible secret ({}); fingerprint {}", f.finding.rule, f.finding.fingerprint) },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": f.path },
                    "region": {
                        "startLine": f.line, "startColumn": f.column, "endLine": f.end_line, "endColumn": f.end_column,
                        "byteOffset": f.finding.start, "byteLength": f.finding.end - f.finding.start,
                    },
                }}],
                "partialFingerprints": { "glasslogSecret/v1": f.finding.fingerprint },
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": { "name": "glasslog", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    })
}
