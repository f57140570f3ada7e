//! The flags that name an Ed25519 key in a PKCS#11 token, shared by `glasslog keygen` and
//! `glasslog witness`.

use anyhow::{Context as _, Result};
use std::path::PathBuf;

/// An Ed25519 key pair in a PKCS#11 token (an HSM).
#[derive(clap::Args, Clone, Debug)]
pub struct TokenArgs {
    /// Keep the Ed25519 key in a PKCS#11 token: the vendor's module (for SoftHSM2,
    /// /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long, requires_all = ["pkcs11_token", "pkcs11_key"])]
    pub pkcs11_module: Option<PathBuf>,
    /// The token's label.
    #[arg(long)]
    pub pkcs11_token: Option<String>,
    /// The key pair's label in the token.
    #[arg(long)]
    pub pkcs11_key: Option<String>,
    /// A file whose first line is the token's user PIN (mode 0600); otherwise the PIN is
    /// read from `GLASSLOG_PKCS11_PIN`.
    #[arg(long)]
    pub pkcs11_pin_file: Option<PathBuf>,
}

impl TokenArgs {
    /// The token configuration, when a module is given.
    pub fn config(&self) -> Result<Option<glasslog_hsm::TokenConfig>> {
        let Some(module) = &self.pkcs11_module else {
            return Ok(None);
        };
        let pin = match &self.pkcs11_pin_file {
            Some(path) => glasslog_hsm::Pin::from_file(path)?,
            None => glasslog_hsm::Pin::new(
                std::env::var("GLASSLOG_PKCS11_PIN")
                    .context("--pkcs11-pin-file or GLASSLOG_PKCS11_PIN is needed")?,
            ),
        };
        Ok(Some(glasslog_hsm::TokenConfig {
            module: module.clone(),
            token_label: self.pkcs11_token.clone().unwrap_or_default(),
            key_label: self.pkcs11_key.clone().unwrap_or_default(),
            pin,
        }))
    }

    /// Opens the key pair, or (with `create`) makes it when the token has none with the label.
    pub fn open(&self, name: &str, create: bool) -> Result<Option<glasslog_hsm::TokenKey>> {
        let Some(config) = self.config()? else {
            return Ok(None);
        };
        Ok(Some(
            match glasslog_hsm::TokenKey::open(config.clone(), name) {
                Err(glasslog_hsm::HsmError::NoKey { .. }) if create => {
                    glasslog_hsm::TokenKey::generate(config, name)?
                }
                other => other?,
            },
        ))
    }
}
