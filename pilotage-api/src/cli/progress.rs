//! Progress display on a terminal for long commands (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use pilotage_core::synth::ProgressEvent;

/// Turns the generator's progress events into an `indicatif` bar on stderr.
pub struct GeneratorProgress {
    bar: ProgressBar,
}

impl GeneratorProgress {
    /// A bar that draws on stderr only when it is a terminal.
    pub fn new() -> Self {
        let bar = ProgressBar::hidden();
        Self { bar }
    }

    /// Handles one event of the generator.
    pub fn on_event(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::Started { total_steps } => {
                self.bar = ProgressBar::new(total_steps);
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}",
                ) {
                    self.bar.set_style(style);
                }
            }
            ProgressEvent::Advanced { step, message } => {
                self.bar.set_position(step);
                self.bar.set_message(message);
            }
            ProgressEvent::Finished => self.bar.finish_and_clear(),
        }
    }
}
