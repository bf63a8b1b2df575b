//! Bearer tokens: a fixed `token`, or a `tokenFile` that is re-read as it rotates.
//!
//! As client-go does for a token file, the token read is kept for a minute (less 10 s of
//! leeway) and then read again, so a projected service-account token that the kubelet or
//! another agent rotates is picked up. A read that fails keeps the last good token. A 401
//! answer makes the next request read the file again at once.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a token read from a file is used before it is read again.
const FILE_TOKEN_PERIOD: Duration = Duration::from_secs(60 - 10);

#[derive(Debug)]
pub enum TokenSource {
    None,
    Static(String),
    File { path: PathBuf, cache: Mutex<Option<FileToken>> },
}

#[derive(Debug)]
pub struct FileToken {
    token: String,
    read_at: Instant,
    /// Set after a 401: read the file again before the period is over.
    stale: bool,
}

impl TokenSource {
    pub fn file(path: PathBuf) -> Self {
        TokenSource::File { path, cache: Mutex::new(None) }
    }

    /// The token to send now, if any.
    pub fn token(&self) -> Option<String> {
        self.token_at(Instant::now())
    }

    pub(crate) fn token_at(&self, now: Instant) -> Option<String> {
        match self {
            TokenSource::None => None,
            TokenSource::Static(token) => Some(token.clone()),
            TokenSource::File { path, cache } => {
                let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(cached) = cache.as_ref()
                    && !cached.stale
                    && now.saturating_duration_since(cached.read_at) < FILE_TOKEN_PERIOD
                {
                    return Some(cached.token.clone());
                }
                match std::fs::read_to_string(path) {
                    Ok(text) if !text.trim().is_empty() => {
                        let token = text.trim().to_string();
                        *cache = Some(FileToken { token: token.clone(), read_at: now, stale: false });
                        Some(token)
                    }
                    result => {
                        let why = match result {
                            Ok(_) => "file is empty".to_string(),
                            Err(e) => e.to_string(),
                        };
                        match cache.as_mut() {
                            Some(cached) => {
                                log::warn!("reading token file {}: {why}; using the previous token", path.display());
                                // Try again at the next period, not on every request.
                                cached.read_at = now;
                                cached.stale = false;
                                Some(cached.token.clone())
                            }
                            None => {
                                log::warn!("reading token file {}: {why}", path.display());
                                None
                            }
                        }
                    }
                }
            }
        }
    }

    /// Forgets a file token after a 401, so the next request reads the file again.
    pub fn invalidate(&self) {
        if let TokenSource::File { cache, .. } = self {
            let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = cache.as_mut() {
                cached.stale = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_token_is_reread_after_the_period() {
        let dir = std::env::temp_dir().join(format!("rk-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("token");
        std::fs::write(&path, "first\n").expect("write");
        let source = TokenSource::file(path.clone());
        let t0 = Instant::now();
        assert_eq!(source.token_at(t0).as_deref(), Some("first"));

        std::fs::write(&path, "second").expect("write");
        assert_eq!(source.token_at(t0 + Duration::from_secs(30)).as_deref(), Some("first"));
        assert_eq!(source.token_at(t0 + Duration::from_secs(51)).as_deref(), Some("second"));

        // A vanished file keeps the last good token.
        std::fs::remove_file(&path).expect("rm");
        assert_eq!(source.token_at(t0 + Duration::from_secs(200)).as_deref(), Some("second"));

        // After a 401 the file is read again at once.
        std::fs::write(&path, "third").expect("write");
        source.invalidate();
        assert_eq!(source.token().as_deref(), Some("third"));
    }

    #[test]
    fn missing_file_without_a_previous_token_is_none() {
        let source = TokenSource::file(PathBuf::from("/nonexistent/rk-token"));
        assert_eq!(source.token(), None);
        assert_eq!(TokenSource::Static("t".into()).token().as_deref(), Some("t"));
        assert_eq!(TokenSource::None.token(), None);
    }
}
