//! How often the retention pass runs.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Seconds between passes. Anonymizing is due by the day, so an hour
    /// is plenty; a pass over nothing due costs a few index lookups.
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            interval_secs: 3600,
        }
    }
}
