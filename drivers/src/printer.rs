//! Receipt printers speaking ESC/POS over a serial port or a USB line-printer device
//! (`/dev/usb/lp0`), and the printer twin: a simulated printer on a pseudo-terminal that answers
//! status queries and keeps every byte it was sent.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::escpos::{PrinterStatus, STATUS_QUERIES};
use crate::serial::{self, PtyPair};
use crate::{Error, ErrorKind, Result};

/// How long a status reply may take.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// A receipt printer.
pub trait Printer: Send {
    /// Sends a whole job; short writes are retried until every byte is out.
    fn print(&mut self, job: &[u8]) -> Result<()>;
    /// Asks the printer for its state (DLE EOT 1–4).
    fn status(&mut self) -> Result<PrinterStatus>;
}

/// Reads the reply to each status query from a byte stream.
fn query_status(io: &mut (impl Read + Write)) -> Result<PrinterStatus> {
    let mut replies = [0u8; 4];
    for (i, q) in STATUS_QUERIES.iter().enumerate() {
        io.write_all(q)?;
        io.flush()?;
        let deadline = Instant::now() + STATUS_TIMEOUT;
        let mut byte = [0u8; 1];
        loop {
            match io.read(&mut byte) {
                Ok(1) => break,
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::Disconnected,
                        "the printer closed its port",
                    ));
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::TimedOut
                        || e.kind() == std::io::ErrorKind::WouldBlock =>
                {
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            "the printer did not answer a status query",
                        ));
                    }
                    // A non-blocking device answers WouldBlock at once: wait a little, do not spin.
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
        replies[i] = byte[0];
    }
    PrinterStatus::from_replies(replies).ok_or_else(|| {
        Error::new(
            ErrorKind::Protocol,
            format!("status replies {replies:02X?} are not ESC/POS"),
        )
    })
}

/// An ESC/POS printer on a serial port.
pub struct SerialPrinter {
    port: Box<dyn serialport::SerialPort>,
}

impl std::fmt::Debug for SerialPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialPrinter")
            .field("port", &self.port.name())
            .finish()
    }
}

impl SerialPrinter {
    pub fn open(path: &str, baud: u32) -> Result<Self> {
        Ok(SerialPrinter {
            port: serial::open(path, baud)?,
        })
    }
}

impl Printer for SerialPrinter {
    fn print(&mut self, job: &[u8]) -> Result<()> {
        self.port.write_all(job)?;
        self.port.flush()?;
        Ok(())
    }

    fn status(&mut self) -> Result<PrinterStatus> {
        // Stale bytes from before would be read as replies.
        let _ = self.port.clear(serialport::ClearBuffer::Input);
        query_status(&mut self.port)
    }
}

/// An ESC/POS printer on the kernel's USB printer class driver.
#[derive(Debug)]
pub struct UsbLpPrinter {
    file: File,
}

impl UsbLpPrinter {
    /// Opens the device non-blocking, so a printer that never answers a status query cannot
    /// hang the caller (the kernel's usblp read would otherwise wait forever).
    pub fn open(path: &Path) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open(path)?;
        Ok(UsbLpPrinter { file })
    }

    /// Throws away bytes left over from an earlier exchange, so replies line up with queries.
    fn drain_input(&mut self) {
        let mut buf = [0u8; 64];
        while matches!(self.file.read(&mut buf), Ok(n) if n > 0) {}
    }
}

impl Printer for UsbLpPrinter {
    fn print(&mut self, job: &[u8]) -> Result<()> {
        // Non-blocking writes may take only part of a job: keep going until it is all out.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut rest = job;
        while !rest.is_empty() {
            match self.file.write(rest) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::Disconnected,
                        "the printer took no bytes",
                    ));
                }
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            "the printer stopped taking data",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn status(&mut self) -> Result<PrinterStatus> {
        self.drain_input();
        match query_status(&mut self.file) {
            // A printer that only receives (no back channel) cannot report: assume it is ready.
            Err(e) if e.kind == ErrorKind::Io && e.message.contains("Invalid argument") => {
                tracing::debug!("The USB printer has no back channel; status unknown.");
                Ok(PrinterStatus {
                    online: true,
                    ..PrinterStatus::default()
                })
            }
            other => other,
        }
    }
}

/// What the twin has printed and how it presents itself.
#[derive(Debug, Default)]
struct TwinState {
    received: Vec<u8>,
    status: PrinterStatus,
    /// How long the mechanism takes to print a job (a real printer's 2–3 s for a ticket).
    print_time: std::time::Duration,
}

/// A simulated printer on a pseudo-terminal: drivers open [`PrinterTwin::device_path`] as a real
/// serial printer; the twin answers DLE EOT with its status and keeps every other byte.
#[derive(Debug)]
pub struct PrinterTwin {
    state: Arc<Mutex<TwinState>>,
    stop: Arc<AtomicBool>,
    pub device_path: std::path::PathBuf,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PrinterTwin {
    /// Starts a twin that reports `status`.
    pub fn start(status: PrinterStatus) -> Result<Self> {
        let PtyPair {
            mut twin,
            device_path,
        } = PtyPair::new()?;
        let state = Arc::new(Mutex::new(TwinState {
            received: Vec::new(),
            status,
            print_time: std::time::Duration::ZERO,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, halt) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("printer-twin".into())
            .spawn(move || {
                let mut buf = [0u8; 4096];
                let mut pending: Vec<u8> = Vec::new();
                while !halt.load(Ordering::Relaxed) {
                    match twin.read(&mut buf) {
                        Ok(0) => std::thread::sleep(serial::READ_SLICE),
                        Ok(n) => {
                            pending.extend_from_slice(&buf[..n]);
                            let mut st = s.lock().unwrap_or_else(|e| e.into_inner());
                            let replies = st.status.to_replies();
                            let mut i = 0;
                            while i < pending.len() {
                                if pending[i] == 0x10 {
                                    if pending.len() < i + 3 {
                                        break;
                                    }
                                    if pending[i + 1] == 0x04 && (1..=4).contains(&pending[i + 2]) {
                                        let reply = replies[usize::from(pending[i + 2]) - 1];
                                        let _ = twin.write_all(&[reply]);
                                        i += 3;
                                        continue;
                                    }
                                }
                                st.received.push(pending[i]);
                                i += 1;
                            }
                            pending.drain(..i);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                        // EIO: no driver has the device end open right now.
                        Err(_) => std::thread::sleep(serial::READ_SLICE),
                    }
                }
            })
            .map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        Ok(PrinterTwin {
            state,
            stop,
            device_path,
            thread: Some(thread),
        })
    }

    /// Every job byte received so far (status queries excluded).
    pub fn received(&self) -> Vec<u8> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .received
            .clone()
    }

    /// Clears what was received.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(
            &mut self
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .received,
        )
    }

    /// Changes what the twin reports, e.g. paper out.
    pub fn set_status(&self, status: PrinterStatus) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).status = status;
    }

    pub fn status(&self) -> PrinterStatus {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).status
    }

    /// How long a job takes to come out (none by default); a print is in progress meanwhile.
    pub fn set_print_time(&self, t: std::time::Duration) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .print_time = t;
    }

    pub fn print_time(&self) -> std::time::Duration {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .print_time
    }

    pub fn device_path_str(&self) -> String {
        self.device_path.display().to_string()
    }
}

impl Drop for PrinterTwin {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
