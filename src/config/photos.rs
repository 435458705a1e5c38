//! How hard a kodikarithmos is to guess by trying (docs/photos.md). A code
//! carries 75 random bits, so guessing one is hopeless already; the limits
//! keep a script from trying at all, and keep the tries out of the logs.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PhotoSettings {
    /// Tries of a code (preview or link) one AFM may make per hour, counted
    /// in the database so the limit holds across instances and restarts; a
    /// right code gives its try back.
    pub code_tries_per_hour: u32,
    /// Tries of a code from one client address per minute, counted in this
    /// instance's memory.
    pub code_tries_per_minute_per_address: u32,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        PhotoSettings {
            code_tries_per_hour: 10,
            code_tries_per_minute_per_address: 20,
        }
    }
}
