#pragma once

#include "fleettypes.h"
#include "result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>

#include <array>
#include <vector>

namespace fleet::bundle {

// An incident bundle (issue #24): one file holding an incident's window as the console recorded it, or as
// `fleetctl record` took it off a live stream. JSON lines (docs/console.md, "Incident bundles"), UTF-8, one object a
// line: a header first, then events and blocks of health samples in time order. A bundle is a file from anywhere:
// everything read from it is bounded and checked as a server's answer is (sizes, ids, numbers, times), and a line
// that is wrong fails the whole file with the line's number and the field, never half-read.

inline constexpr int kVersion = 1;
inline constexpr char kFormat[] = "fleet-console-incident";
inline constexpr qsizetype kMaxFileBytes = 512LL * 1024 * 1024;
inline constexpr qsizetype kMaxLineBytes = 4 * 1024 * 1024;
inline constexpr int kMaxRegions = 200;
inline constexpr int kMaxBlockSeconds = 3600; // seconds in one block of samples

// The columns of a block of samples: one per second, the health timeline's metrics in its order.
inline constexpr int kColumnCount = 16;
const std::array<const char *, kColumnCount> &columnNames(); // "workers_idle", ..., "wait_p95_s"

struct Header
{
    int version = kVersion;
    QString fleet; // the Fleet API's URL (no credentials), as the profile names it
    QString title;
    QString recordedBy; // "fleet-console", "fleetctl record"
    qint64 fromMs = 0; // the window, UTC
    qint64 toMs = 0;
    QList<Region> regions; // id, name, provider, location; counts as at the start of the window
    QMap<QString, double> thresholds; // the verdict thresholds in force ("degraded_packet_loss": 0.05, ...)
};

// One thing that happened: a verdict change, an operation as it stood at that moment, a status update, an alert.
struct Event
{
    enum class Kind { Verdict, Operation, StatusUpdate, Alert };
    Kind kind = Kind::Verdict;
    qint64 atMs = 0;
    QString region; // id
    QString regionName;
    // Verdict: from, to ("healthy", "degraded", "down", "no data") and why, in words.
    QString from;
    QString to;
    QString reason;
    Operation operation; // Operation: the Fleet API's operation as it was at atMs
    // StatusUpdate: the page's incident and the update.
    QString incidentId;
    QString incidentName;
    QString updateId;
    QString status;
    QString body;
    // Alert: Alertmanager's alert, "firing" or "resolved" (in `to`), its summary in `body`.
    QString alertName;
    QString fingerprint;

    // What makes it the same event when it is recorded again (after a restart): kind, time, and what it is about.
    QString key() const;
};

// Seconds of one region's health from `fromSecond`, a value per column per second; NaN where there was no sample.
struct Samples
{
    QString region;
    qint64 fromSecond = 0; // Unix seconds, UTC
    std::array<std::vector<float>, kColumnCount> columns; // all the same length, at most kMaxBlockSeconds
    int seconds() const { return int(columns[0].size()); }
};

struct Bundle
{
    Header header;
    QList<Event> events; // in time order
    QList<Samples> samples; // in time order per region
};

QString kindName(Event::Kind kind); // "verdict", "operation", "status_update", "alert"

// One line each, without the newline.
QByteArray encodeHeader(const Header &header);
QByteArray encodeEvent(const Event &event);
QByteArray encodeSamples(const Samples &samples);

// A whole file; `origin` names it in errors ("incident.jsonl: line 7: operation.id: ...").
Result<Bundle> decode(const QByteArray &file, const QString &origin);
// One line that is not the header (the local store keeps events and samples as these lines).
Result<Event> decodeEvent(const QByteArray &line, const QString &origin);
Result<Samples> decodeSamples(const QByteArray &line, const QString &origin);

} // namespace fleet::bundle
