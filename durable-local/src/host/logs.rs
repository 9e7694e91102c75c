//! The captured output of a hosted function's processes, as CloudWatch Logs would have it: every
//! line of standard output and standard error, with the process and the invocation it came from.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use tokio::sync::broadcast;

/// Where a line was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One line of a function's output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// The process that wrote it.
    pub pid: u32,
    /// Standard output or standard error.
    pub stream: LogStream,
    /// The invocation the process was running when the line was read, or the last one it ran
    /// (output is read as it comes, so a line written just before a response is read after it).
    /// Output of a process's initialization belongs to its first invocation, as in Lambda.
    pub request_id: Option<String>,
    /// The line, without its line ending (invalid UTF-8 replaced).
    pub text: String,
}

/// The lines a hosted function's processes wrote: the most recent ones kept for reading, and every
/// new one sent to subscribers.
#[derive(Debug)]
pub struct FunctionLogs {
    lines: Mutex<VecDeque<LogLine>>,
    capacity: usize,
    sender: broadcast::Sender<LogLine>,
}

impl FunctionLogs {
    /// Lines a subscriber may fall behind by before it misses some.
    const SUBSCRIBER_BACKLOG: usize = 4096;

    pub(crate) fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(Self::SUBSCRIBER_BACKLOG);
        Self { lines: Mutex::new(VecDeque::new()), capacity, sender }
    }

    pub(crate) fn push(&self, line: LogLine) {
        let _ = self.sender.send(line.clone());
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() >= self.capacity {
            lines.pop_front();
        }
        if self.capacity > 0 {
            lines.push_back(line);
        }
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).iter().cloned().collect()
    }

    /// The kept standard-output lines, oldest first (what CloudWatch Logs shows of a Rust function
    /// that logs to stdout).
    pub fn stdout(&self) -> Vec<String> {
        self.select(|line| line.stream == LogStream::Stdout)
    }

    /// The kept lines written during the invocation `request_id`, oldest first.
    pub fn of_request(&self, request_id: &str) -> Vec<String> {
        self.select(|line| line.request_id.as_deref() == Some(request_id))
    }

    /// Forgets the kept lines.
    pub fn clear(&self) {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// Every line written from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LogLine> {
        self.sender.subscribe()
    }

    fn select(&self, keep: impl Fn(&LogLine) -> bool) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().filter(|line| keep(line)).map(|line| line.text.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, stream: LogStream, request_id: Option<&str>) -> LogLine {
        LogLine { pid: 1, stream, request_id: request_id.map(str::to_owned), text: text.to_owned() }
    }

    #[test]
    fn keeps_the_latest_lines_and_broadcasts_all() {
        let logs = FunctionLogs::new(2);
        let mut subscriber = logs.subscribe();
        logs.push(line("a", LogStream::Stdout, Some("r1")));
        logs.push(line("b", LogStream::Stderr, Some("r1")));
        logs.push(line("c", LogStream::Stdout, None));
        assert_eq!(logs.stdout(), vec!["c".to_owned()]);
        assert_eq!(logs.of_request("r1"), vec!["b".to_owned()]);
        assert_eq!(subscriber.try_recv().map(|l| l.text).ok().as_deref(), Some("a"));
        logs.clear();
        assert!(logs.lines().is_empty());
    }
}
