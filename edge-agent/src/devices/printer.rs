//! The ticket printer (ESC/POS on serial or USB): print jobs in turn, paper and cover watched.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use menpai_drivers::escpos::PrinterStatus;
use menpai_drivers::printer::{Printer, PrinterTwin, SerialPrinter, UsbLpPrinter};
use menpai_model::api::DeviceState;
use serde::Deserialize;
use tokio::sync::oneshot;

use super::backend::Backend;
use super::context::{Ctx, Reporter, reconnect_backoff, resolve};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrinterConfig {
    /// serial, usb_lp, simulated (a twin on a pseudo-terminal) or none.
    pub backend: Backend,
    /// Device path, e.g. `/dev/ttyUSB0` or `/dev/usb/lp0`.
    pub path: String,
    /// Find the device by USB id `vid:pid` instead of a path.
    pub usb_id: String,
    /// Line speed of a serial printer.
    pub baud: u32,
    /// Characters per line: 32 on 58 mm paper, 48 on 80 mm.
    pub columns: usize,
    /// How often paper and cover are checked, in seconds.
    pub status_poll_s: u64,
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig {
            backend: Backend::Simulated,
            path: String::new(),
            usb_id: String::new(),
            baud: 19200,
            columns: 32,
            status_poll_s: 10,
        }
    }
}

impl PrinterConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        use Backend::{None, Serial, Simulated, UsbLp};
        self.backend.check_serial_like(
            "printer",
            &self.path,
            &self.usb_id,
            &[Serial, UsbLp, Simulated, None],
        )?;
        if !(24..=64).contains(&self.columns) {
            return Err("devices.printer.columns must be between 24 and 64".into());
        }
        Ok(())
    }
}

/// Why a print did not happen, in words for the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintError {
    pub reason: String,
}

struct PrintRequest {
    job: Vec<u8>,
    reply: oneshot::Sender<Result<(), PrintError>>,
}

/// A running printer: where jobs go, and the simulated one's other end.
pub(super) struct PrinterHandle {
    jobs: mpsc::Sender<PrintRequest>,
    pub(super) twin: Option<Arc<PrinterTwin>>,
}

impl PrinterHandle {
    /// Prints a job; fails with a plain reason when the printer cannot print now.
    pub(super) async fn print(&self, job: Vec<u8>) -> Result<(), PrintError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(PrintRequest { job, reply })
            .map_err(|_| PrintError {
                reason: "本机没有打印机".into(),
            })?;
        let result = match tokio::time::timeout(Duration::from_secs(30), answer).await {
            Ok(Ok(result)) => result,
            _ => Err(PrintError {
                reason: "打印机没有响应".into(),
            }),
        };
        // A simulated printer takes the time a real one would to print the job.
        if let (Ok(()), Some(twin)) = (&result, &self.twin) {
            tokio::time::sleep(twin.print_time()).await;
        }
        result
    }
}

/// Starts the printer's thread; a simulated printer gets its twin here.
pub(super) fn spawn(config: &PrinterConfig, ctx: &Ctx) -> anyhow::Result<PrinterHandle> {
    let c = config.clone();
    let mut twin = None;
    let path = if c.backend == Backend::Simulated {
        let t = Arc::new(PrinterTwin::start(PrinterStatus {
            online: true,
            ..Default::default()
        })?);
        let path = t.device_path_str();
        twin = Some(t);
        path
    } else {
        c.path.clone()
    };
    let (jobs, rx) = mpsc::channel();
    let (r, ctx2) = (ctx.reporter("printer", c.backend), ctx.clone());
    let poll = Duration::from_secs(c.status_poll_s.max(1));
    ctx.thread("printer", move || {
        run(c.backend, &path, &c.usb_id, c.baud, poll, rx, &r, &ctx2)
    })?;
    Ok(PrinterHandle { jobs, twin })
}

/// Health of a printer in a state, in words for the technician.
fn printer_health(s: &PrinterStatus) -> (DeviceState, &'static str) {
    if s.paper_out {
        (DeviceState::Down, "缺纸")
    } else if s.cover_open {
        (DeviceState::Down, "纸仓盖打开")
    } else if !s.online {
        (DeviceState::Down, "脱机")
    } else if s.error {
        (DeviceState::Down, "故障（切刀或机构）")
    } else if s.paper_near_end {
        (DeviceState::Degraded, "纸将用尽")
    } else {
        (DeviceState::Ok, "就绪")
    }
}

fn open(backend: Backend, path: &str, usb_id: &str, baud: u32) -> Result<Box<dyn Printer>, String> {
    resolve(path, usb_id).and_then(|p| {
        let open: menpai_drivers::Result<Box<dyn Printer>> = match backend {
            Backend::UsbLp => {
                UsbLpPrinter::open(p.as_ref()).map(|x| Box::new(x) as Box<dyn Printer>)
            }
            _ => SerialPrinter::open(&p, baud).map(|x| Box::new(x) as Box<dyn Printer>),
        };
        open.map_err(|e| format!("{p}: {}", e.message))
    })
}

/// Prints the jobs in turn and polls the status between them; reopens a printer that stopped
/// answering. A job whose asker has gone is not printed; a job started is always finished.
#[allow(clippy::too_many_arguments)] // one thread's whole context, passed once
fn run(
    backend: Backend,
    path: &str,
    usb_id: &str,
    baud: u32,
    poll: Duration,
    jobs: mpsc::Receiver<PrintRequest>,
    r: &Reporter,
    ctx: &Ctx,
) {
    let mut backoff = reconnect_backoff();
    let mut printer: Option<Box<dyn Printer>> = None;
    let mut retry_at = Instant::now();
    while !ctx.stopping() {
        if printer.is_none() && Instant::now() >= retry_at {
            match open(backend, path, usb_id, baud) {
                Ok(mut p) => match p.status() {
                    Ok(s) => {
                        let (state, detail) = printer_health(&s);
                        r.opened();
                        r.set(state, detail);
                        backoff.reset();
                        printer = Some(p);
                    }
                    Err(e) => {
                        r.set(DeviceState::Down, format!("无应答：{}", e.message));
                        retry_at = Instant::now() + backoff.next_delay();
                    }
                },
                Err(e) => {
                    r.set(DeviceState::Down, format!("无法打开：{e}"));
                    retry_at = Instant::now() + backoff.next_delay();
                }
            }
        }
        let wait = if printer.is_some() {
            poll
        } else {
            Duration::from_millis(100)
        };
        match jobs.recv_timeout(wait.min(Duration::from_millis(250))) {
            Ok(req) => {
                // The citizen who asked has gone (the kiosk gave up waiting): do not print it now.
                if req.reply.is_closed() {
                    continue;
                }
                let result = match printer.as_mut() {
                    None => Err(PrintError {
                        reason: "打印机未连接".into(),
                    }),
                    Some(p) => match p.status() {
                        Ok(s) if s.ready() => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                            p.print(&req.job).map_err(|e| PrintError {
                                reason: format!("打印失败：{}", e.message),
                            })
                        }
                        Ok(s) => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                            Err(PrintError {
                                reason: format!("打印机{detail}"),
                            })
                        }
                        Err(e) => Err(PrintError {
                            reason: format!("打印机无应答：{}", e.message),
                        }),
                    },
                };
                if let Err(e) = &result
                    && (e.reason.contains("无应答") || e.reason.contains("失败"))
                {
                    printer = None;
                    r.set(DeviceState::Down, e.reason.clone());
                    retry_at = Instant::now() + backoff.next_delay();
                }
                let _ = req.reply.send(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(p) = printer.as_mut()
                    && Instant::now() >= retry_at
                {
                    match p.status() {
                        Ok(s) => {
                            let (state, detail) = printer_health(&s);
                            r.set(state, detail);
                        }
                        Err(e) => {
                            r.set(DeviceState::Down, format!("无应答：{}", e.message));
                            printer = None;
                        }
                    }
                    retry_at = Instant::now() + poll;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
