//! An index of a large config file's sections, kept in the state directory, so
//! that a one-profile call reads only the bytes it parses.
//!
//! [`Config::load_for`] already parses only the tables a call needs
//! ([`crate::sections`]), but it still reads and splits the whole file: for a
//! thousand profiles that is 230 KB, about 60 fresh heap pages per call. For a
//! config of at least [`INDEX_FROM`] bytes the first call records where each
//! section starts in `state/config.index`, keyed on the file's identity and times
//! (device, inode, size, mtime, ctime, to the nanosecond); later calls find the
//! sections they need there and read just those bytes (`pread`).
//!
//! The index only ever makes the call cheaper, never changes its answer:
//! - **Stale**: any write to the config changes its ctime (which no program can
//!   set back), so the key no longer matches and the file is read whole. A config
//!   changed less than [`SETTLED`] ago is not indexed, so a second write within the
//!   same timestamp tick (coarse file system clocks) cannot hide behind the key.
//! - **Forged or broken**: every byte the call uses is read from the config
//!   itself. Each kept range must start and end on a line boundary next to a
//!   header line, the kept text must split into exactly the sections the index
//!   names (the root first, a profile's range under that profile's own header),
//!   it must parse, hold every profile asked for, and name the same default
//!   profile. Anything else, an index that is not the user's own or that others
//!   may write, or one that does not read, falls back to the whole file (never
//!   an error), and that call writes the index anew if it differs. The
//!   index lives in the private state directory beside the token records (so
//!   whoever could write it could replace those as well); what it alone vouches
//!   for is that the ranges it leaves out hold other profiles' tables.
//! - Written like every state file: a 0600 temp file renamed over the old one,
//!   never creating the state directory. Smaller configs are not indexed (one
//!   read of a few pages is cheaper than two), so nothing changes for them.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::config::{Config, ProfileName};
use crate::error::Error;
use crate::sections::{Header, Sections};

/// Configs at least this large are indexed; smaller ones are read whole.
pub const INDEX_FROM: u64 = 64 * 1024;
/// The index's file name in the state directory.
pub const FILE_NAME: &str = "config.index";
/// How long ago the config must have last changed before it is indexed: more
/// than the coarsest file-time tick (2 s on FAT, a jiffy on ext4).
pub const SETTLED: Duration = Duration::from_secs(3);
/// The first line of an index file (its format's version).
const MAGIC: &str = "central-auth config index 1";
/// An index larger than this is not read (a config of 64 MB would need it).
const MAX_INDEX: u64 = 8 << 20;

/// [`Config::load_for`] through the index in `state_dir` (see the module docs).
pub fn load_for(path: &Path, state_dir: &Path, wanted: Option<&str>) -> Result<Config, Error> {
    load_with(path, state_dir, wanted, SETTLED).0
}

/// How [`load_with`] read the config (for tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// From the index: only the kept sections' bytes.
    Index,
    /// The whole file (and the index was written when `true`).
    Whole(bool),
}

/// [`load_for`] with the settling time as a parameter; also says how it read.
fn load_with(
    path: &Path,
    state_dir: &Path,
    wanted: Option<&str>,
    settled: Duration,
) -> (Result<Config, Error>, Source) {
    let opened = File::open(path).and_then(|f| f.metadata().map(|m| (f, m)));
    let Ok((mut file, meta)) = opened else {
        // Missing or unreadable: the plain path says so in its own words.
        return (Config::load_for(path, wanted), Source::Whole(false));
    };
    let key = Key::of(&meta).filter(|_| meta.len() >= INDEX_FROM);
    // The index as found, so that one that is current but of no use to this
    // call (a profile not in the file) is not written again on every call.
    let mut found = None;
    if let Some(key) = &key {
        found = read_index(&state_dir.join(FILE_NAME));
        let hit = found
            .as_deref()
            .and_then(|text| from_index(&file, key, text, path, wanted));
        if let Some(config) = hit {
            return (Ok(config), Source::Index);
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    // `take` reads into the capacity reserved here, without asking the size again.
    let read = Read::by_ref(&mut file)
        .take(u64::MAX)
        .read_to_end(&mut bytes);
    let text = match read.map(|_| String::from_utf8(bytes)) {
        Ok(Ok(text)) => text,
        _ => return (Config::load(path), Source::Whole(false)),
    };
    let config = Config::parse_for(&text, path, wanted);
    let wrote = match (&config, key) {
        (Ok(config), Some(key)) if key.settled(settled) => {
            let index = render(&key, &text, config.default_profile.as_ref());
            index
                .filter(|new| found.as_ref() != Some(new))
                .is_some_and(|new| write(state_dir, &new))
        }
        _ => false,
    };
    (config, Source::Whole(wrote))
}

/// What identifies one version of the config file: if any of it differs, the
/// file was replaced or written since the index was made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Key {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Key> {
        use std::os::unix::fs::MetadataExt;
        Some(Key {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Key> {
        None
    }

    /// The key's line in the index.
    fn line(&self) -> String {
        format!(
            "key {} {} {} {}.{} {}.{}",
            self.dev, self.ino, self.size, self.mtime.0, self.mtime.1, self.ctime.0, self.ctime.1
        )
    }

    /// True when the file last changed at least `margin` ago.
    fn settled(&self, margin: Duration) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let changed = self.mtime.0.max(self.ctime.0);
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
        // Whole seconds, rounded against us: more than `margin` minus a second.
        margin == 0 || now.saturating_sub(changed) > margin
    }
}

/// A section a call reads: what its header names and its byte range.
type Piece<'a> = (Header<'a>, std::ops::Range<usize>);

/// An index that matched the config's key, not yet read past its head.
struct Index<'a> {
    /// The default profile the config named when it was indexed.
    default: Option<&'a str>,
    /// The entry lines, one section each in file order after the root:
    /// `o START` (another table), `p START NAME` (a profile), `s START NAME`
    /// (a profile holding a literal `client_secret`).
    entries: &'a str,
    size: usize,
}

impl<'a> Index<'a> {
    /// Reads the head of `text`; `None` unless it is a complete index for `key`.
    fn parse(text: &'a str, key: &Key) -> Option<Index<'a>> {
        let body = text.strip_suffix("end\n")?;
        let body = body.strip_prefix(MAGIC)?.strip_prefix('\n')?;
        let body = body.strip_prefix(key.line().as_str())?.strip_prefix('\n')?;
        let (default, entries) = match body.strip_prefix("d ") {
            Some(rest) => {
                let (name, entries) = rest.split_once('\n')?;
                (Some(name), entries)
            }
            None => (None, body),
        };
        let size = usize::try_from(key.size).ok()?;
        Some(Index {
            default,
            entries,
            size,
        })
    }

    /// The sections a call for `keep` reads, as `Sections::keep_profiles` keeps
    /// them, in file order, and whether a profile section left out holds a
    /// literal secret; `None` for a line that does not read, or sections that
    /// overlap. Only the lines that matter are read, found with SIMD searches
    /// (`memmem`): other tables (`o`), literal secrets (`s`) and the profiles
    /// kept. A thousand profiles are a thousand lines; reading each cost more
    /// than the rest of the call.
    fn kept(&self, keep: &[&str]) -> Option<(Vec<Piece<'a>>, bool)> {
        let mut pieces = Vec::new();
        // The root: up to the first section (or the whole file).
        let root_end = match self.entries.is_empty() {
            true => self.size,
            false => self.line_at(0)?.2,
        };
        pieces.push((Header::Root, 0..root_end));
        for at in self.lines_starting(b"o ") {
            let (header, _, range) = self.section_at(at)?;
            pieces.push((header, range));
        }
        let mut literal_dropped = false;
        for at in self.lines_starting(b"s ") {
            let (header, ..) = self.line_at(at)?;
            literal_dropped |= matches!(header, Header::Profile(n) if !keep.contains(&n));
        }
        let bytes = self.entries.as_bytes();
        for (i, name) in keep.iter().enumerate() {
            if keep[..i].contains(name) {
                continue;
            }
            let needle = format!(" {name}\n");
            for hit in memchr::memmem::find_iter(bytes, needle.as_bytes()) {
                let at = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |p| p + 1);
                let (header, _, range) = self.section_at(at)?;
                if header == Header::Profile(name) {
                    pieces.push((header, range));
                }
            }
        }
        pieces.sort_by_key(|(_, range)| range.start);
        let disjoint = pieces.windows(2).all(|w| w[0].1.end <= w[1].1.start);
        disjoint.then_some((pieces, literal_dropped))
    }

    /// The starts of the entry lines that begin with `prefix`.
    fn lines_starting(&self, prefix: &'static [u8]) -> impl Iterator<Item = usize> + 'a {
        let bytes = self.entries.as_bytes();
        let first = bytes.starts_with(prefix).then_some(0);
        let needle = [b"\n".as_slice(), prefix].concat();
        let rest: Vec<usize> = memchr::memmem::find_iter(bytes, &needle)
            .map(|i| i + 1)
            .collect();
        first.into_iter().chain(rest)
    }

    /// The entry line starting at byte `at`: what it names, whether it is
    /// marked as holding a literal secret, where its section starts, and where
    /// the next line starts.
    fn line_at(&self, at: usize) -> Option<(Header<'a>, bool, usize, usize)> {
        let rest = self.entries.get(at..)?;
        let line = &rest[..memchr::memchr(b'\n', rest.as_bytes())?];
        let (kind, after) = (line.as_bytes().first()?, line.get(2..)?);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let start: usize = after[..digits].parse().ok()?;
        let name = match after.as_bytes().get(digits) {
            None => None,
            Some(b' ') => Some(&after[digits + 1..]),
            Some(_) => return None,
        };
        let (header, literal) = match (kind, name, line.as_bytes().get(1)) {
            (b'o', None, Some(b' ')) => (Header::Other, false),
            (b'p', Some(name), Some(b' ')) => (Header::Profile(name), false),
            (b's', Some(name), Some(b' ')) => (Header::Profile(name), true),
            _ => return None,
        };
        (start < self.size).then_some((header, literal, start, at + line.len() + 1))
    }

    /// The section of the entry line at `at`: up to the next line's start, or
    /// to the end of the file.
    fn section_at(&self, at: usize) -> Option<(Header<'a>, bool, std::ops::Range<usize>)> {
        let (header, literal, start, next) = self.line_at(at)?;
        let end = match next == self.entries.len() {
            true => self.size,
            false => self.line_at(next)?.2,
        };
        (start < end).then_some((header, literal, start..end))
    }
}

/// The config for `wanted` from the index and the kept bytes of `file`; `None`
/// for any reason to read the whole file instead.
fn from_index(
    file: &File,
    key: &Key,
    text: &str,
    path: &Path,
    wanted: Option<&str>,
) -> Option<Config> {
    let index = Index::parse(text, key)?;
    let mut keep: Vec<String> = wanted
        .into_iter()
        .chain(index.default)
        .map(str::to_owned)
        .collect();
    if keep.is_empty() {
        return None;
    }
    let (kept, literal_dropped) = loop {
        let names: Vec<&str> = keep.iter().map(String::as_str).collect();
        let (pieces, literal_dropped) = index.kept(&names)?;
        let kept = read_pieces(file, &pieces, index.size)?;
        // The kept text must split into exactly the sections the index names.
        {
            let sections = Sections::scan(&kept)?;
            let mut at = 0;
            let mut split = sections.parts();
            for (header, range) in &pieces {
                let (h, r) = split.next()?;
                if h != *header || r != (at..at + range.len()) {
                    return None;
                }
                at += range.len();
            }
            if split.next().is_some() {
                return None;
            }
        }
        // A tenant profile needs its MSP profile's section too (one more read).
        let froms: Vec<String> = Config::parse_unlinked(&kept, path)
            .ok()?
            .profiles
            .values()
            .filter_map(|p| p.tenant.as_ref())
            .map(|t| t.from.to_string())
            .filter(|f| !keep.contains(f))
            .collect();
        if froms.is_empty() || keep.len() > 2 {
            break (kept, literal_dropped);
        }
        keep.extend(froms);
    };
    let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
    let mut config = Config::parse_for(&kept, path, wanted).ok()?;
    let holds =
        |name: &&str| ProfileName::new(name).is_ok_and(|n| config.profiles.contains_key(&n));
    let default = config.default_profile.as_ref().map(ProfileName::as_str);
    if !keep.iter().all(holds) || default != index.default {
        return None;
    }
    config.unread_literal_secret = literal_dropped;
    Some(config)
}

/// Reads the index file: the user's own, not a link, not writable by others,
/// not oversized. `None` otherwise.
#[cfg(unix)]
fn read_index(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    let mut file = crate::fsutil::nofollow::no_follow(&mut options)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let mine = meta.uid() == rustix::process::geteuid().as_raw();
    if !mine || meta.mode() & 0o022 != 0 || !meta.is_file() || meta.len() > MAX_INDEX {
        return None;
    }
    let mut text = String::with_capacity(usize::try_from(meta.len()).ok()? + 1);
    file.read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(not(unix))]
fn read_index(_path: &Path) -> Option<String> {
    None
}

/// Reads the kept ranges of `file` (`size` bytes) into one text, checking that
/// each starts right after a newline and ends with one, before a header line.
#[cfg(unix)]
fn read_pieces(file: &File, pieces: &[Piece<'_>], size: usize) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let mut out = Vec::with_capacity(pieces.iter().map(|(_, r)| r.len()).sum());
    let mut i = 0;
    while i < pieces.len() {
        // Neighbouring sections are read in one go.
        let start = pieces[i].1.start;
        let mut end = pieces[i].1.end;
        while i + 1 < pieces.len() && pieces[i + 1].1.start == end {
            i += 1;
            end = pieces[i].1.end;
        }
        i += 1;
        if start == end {
            continue;
        }
        // One byte before (the newline ending the previous line) and one after
        // (the next header line's first byte).
        let from = start.saturating_sub(1);
        let to = (end + 1).min(size);
        let mut buf = vec![0; to - from];
        file.read_exact_at(&mut buf, u64::try_from(from).ok()?)
            .ok()?;
        let before_ok = start == 0 || buf.first() == Some(&b'\n');
        let body = &buf[start - from..end - from];
        let after_ok = end == size
            || (body.last() == Some(&b'\n') && matches!(buf.last(), Some(b'[' | b' ' | b'\t')));
        if !before_ok || !after_ok {
            return None;
        }
        out.extend_from_slice(body);
    }
    String::from_utf8(out).ok()
}

#[cfg(not(unix))]
fn read_pieces(_file: &File, _pieces: &[Piece<'_>], _size: usize) -> Option<String> {
    None
}

/// The index text of `text` (the config as read under `key`); `None` when the
/// scan cannot split it (then every call reads it whole, as without an index).
fn render(key: &Key, text: &str, default: Option<&ProfileName>) -> Option<String> {
    let sections = Sections::scan(text)?;
    let mut out = format!("{MAGIC}\n{}\n", key.line());
    if let Some(d) = default {
        out.push_str(&format!("d {d}\n"));
    }
    for (header, range) in sections.parts() {
        let line = match header {
            Header::Root => continue,
            Header::Other => format!("o {}\n", range.start),
            Header::Profile(name) => {
                let kind = if crate::config::has_literal_secret_key(&text[range.clone()]) {
                    's'
                } else {
                    'p'
                };
                format!("{kind} {} {name}\n", range.start)
            }
        };
        out.push_str(&line);
    }
    out.push_str("end\n");
    Some(out)
}

/// Writes `index` into an existing `state_dir`; false when it did not (no
/// state directory, or a failed write: both ignored).
fn write(state_dir: &Path, index: &str) -> bool {
    if !state_dir.is_dir() {
        return false;
    }
    crate::fsutil::replace_shared(&state_dir.join(FILE_NAME), index.as_bytes()).is_ok()
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests;
