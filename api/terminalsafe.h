#pragma once

#include <QString>

#include <functional>

namespace fleet {

constexpr qsizetype kTerminalSafeMax = 2000;

// A server-supplied string made safe for a terminal line: control characters (newlines, escape sequences, C1
// controls, DEL) and Unicode direction overrides are written as escapes (\n, \e, \u{202e}, ...), so a name or a
// reason can neither forge another line of output nor move the cursor. Text in JSON output needs none of this.
// Bounded too: past `maxChars` characters the rest is left out and counted ("... (650,000 more characters)"), so a
// hostile answer cannot fill a terminal or a log with one line.
QString terminalSafe(const QString &text, qsizetype maxChars = kTerminalSafeMax);

// `text` cut to `limit` characters with "..." after a cut: a server's text kept to a size a view can show.
QString boundedText(const QString &text, qsizetype limit);
// `text` as one shell word that a POSIX shell reads back unchanged (single-quoted where needed), for commands
// printed to be pasted.
QString shellQuoted(const QString &text);

// Runs `onSignal` on the event loop (not in the signal handler) when SIGINT or SIGTERM arrives: the handler only
// writes a byte to a pipe, which is all a signal handler may safely do.
void onTerminationSignal(const std::function<void()> &onSignal);

} // namespace fleet
