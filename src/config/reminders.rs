//! When the documents reminder before a visit goes out (R-BK-05).

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ReminderSettings {
    /// Hours before the start at which the documents reminder goes out.
    pub lead_hours: u32,
    /// Seconds between passes; a reminder goes out at most this late.
    pub interval_secs: u64,
}

impl Default for ReminderSettings {
    fn default() -> Self {
        ReminderSettings {
            lead_hours: 72,
            interval_secs: 300,
        }
    }
}
