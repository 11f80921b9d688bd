//! Owns driving a real browser for the HTML report test: finding Debian's `chromium`
//! (`/usr/bin/chromium`, or on `PATH`), running it headless with no network features and a
//! throwaway profile to dump the DOM after the page's script ran (`--virtual-time-budget`)
//! or to take a screenshot, every run bounded by a deadline; and the screenshot check (PNG
//! dimensions, a header region that is not blank), not pixel-exact.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A browser or `sockspec report` run past this is killed and the test fails.
pub(super) const DEADLINE: Duration = Duration::from_secs(90);

/// Virtual time the page gets to run its script before the DOM is dumped.
const VIRTUAL_TIME_MS: u32 = 10_000;

/// The screenshot's window.
const WINDOW: (u32, u32) = (1280, 900);

/// A headless chromium.
pub(super) struct Browser {
    program: PathBuf,
}

pub(super) struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

fn read_all(mut from: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = from.read_to_end(&mut out);
        out
    })
}

/// Waits for `child` until `deadline`, reading its output meanwhile; kills it past that.
pub(super) fn wait_bounded(mut child: Child, deadline: Duration, what: &str) -> Finished {
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} took more than {deadline:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |h: JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
    };
    Finished {
        success: status.success(),
        stdout: text(stdout),
        stderr: text(stderr),
    }
}

impl Browser {
    /// Debian's chromium, when installed.
    pub(super) fn find() -> Option<Browser> {
        let fixed = PathBuf::from("/usr/bin/chromium");
        if fixed.is_file() {
            return Some(Browser { program: fixed });
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("chromium"))
                .find(|p| p.is_file())
                .map(|program| Browser { program })
        })
    }

    fn command(&self, profile: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_MS}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        c
    }

    /// The DOM of `url` once its script ran.
    pub(super) fn dump_dom(&self, url: &str, profile: &Path) -> String {
        let child = self
            .command(profile)
            .arg("--dump-dom")
            .arg(url)
            .spawn()
            .expect("chromium starts");
        let done = wait_bounded(child, DEADLINE, "chromium --dump-dom");
        assert!(done.success, "chromium --dump-dom failed: {}", done.stderr);
        done.stdout
    }

    /// A screenshot of `url` in a [`WINDOW`]-sized window, written to `png`.
    pub(super) fn screenshot(&self, url: &str, png: &Path, profile: &Path) {
        let child = self
            .command(profile)
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
            .arg(url)
            .spawn()
            .expect("chromium starts");
        let done = wait_bounded(child, DEADLINE, "chromium --screenshot");
        assert!(
            done.success && png.is_file(),
            "chromium --screenshot failed: {}",
            done.stderr
        );
    }
}

/// The screenshot is `width`×`height`, its header band is dark with lighter text in it (not
/// blank), and the area below the header is mostly light (the page, not an error screen).
pub(super) fn check_screenshot(png: &Path, width: u32, height: u32) {
    let file = std::fs::File::open(png).expect("the screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(
        (info.width, info.height),
        (width, height),
        "screenshot size"
    );
    let channels = info.color_type.samples();
    let luma = |x: u32, y: u32| {
        let i = (y as usize * info.line_size) + x as usize * channels;
        let px = &buf[i..i + channels.min(3)];
        if px.len() < 3 {
            u32::from(px[0])
        } else {
            (u32::from(px[0]) * 3 + u32::from(px[1]) * 6 + u32::from(px[2])) / 10
        }
    };
    // The header: a dark band (#24292f) across the top, with the title's light pixels in it.
    let header: Vec<u32> = (4..50)
        .flat_map(|y| (0..width / 2).step_by(2).map(move |x| (x, y)))
        .map(|(x, y)| luma(x, y))
        .collect();
    let dark = header.iter().filter(|l| **l < 80).count();
    let light = header.iter().filter(|l| **l > 180).count();
    assert!(
        dark > header.len() / 2,
        "the header band is not dark ({dark} of {})",
        header.len()
    );
    assert!(
        light > 50,
        "no title in the header band ({light} light pixels)"
    );
    // Below it, the page: mostly light, with some content.
    let body: Vec<u32> = (120..height)
        .step_by(4)
        .flat_map(|y| (0..width).step_by(4).map(move |x| (x, y)))
        .map(|(x, y)| luma(x, y))
        .collect();
    let white = body.iter().filter(|l| **l > 200).count();
    assert!(
        white > body.len() / 2,
        "the page below the header is not light"
    );
    assert!(white < body.len(), "the page below the header is blank");
}
