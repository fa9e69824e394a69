#pragma once

#include "healthverdict.h"
#include "incidenttimeline.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace fleet {

class HealthTimeline;

// Time to detect, acknowledge and mitigate an incident (issue #24), stamped from the fleet's telemetry and the
// console's own records, never typed in:
//   detect       first symptom -> verdict. The symptom is the first second of the stretch, ending at the verdict, in
//                which the region's measures crossed a threshold (the verdict's own measures over its window, before
//                the hold time and hysteresis): what a person watching the charts could have seen.
//   acknowledge  verdict -> the first human action: a status update or an operation (0 when one came first).
//   mitigate     the first mitigation (a provision or drain the fleet accepted) -> the moment the affected region's
//                infrastructure failure rate (the verdict's Wilson lower bound) went under its degraded threshold and
//                stayed there for 5 minutes.
// The affected region is the first one in trouble long enough to count in the postmortem (kAffectedMs). A figure
// that cannot be stamped (no samples before the verdict, nobody acted yet, not 5 minutes under the threshold yet) is
// missing with the reason, never guessed.
struct IncidentMetrics
{
    QString region; // id
    QString regionName;
    qint64 symptomMs = 0;
    qint64 verdictMs = 0;
    qint64 acknowledgedMs = 0;
    QString acknowledgedBy; // the action, in words
    qint64 mitigationMs = 0;
    QString mitigation; // the first mitigation, in words
    qint64 mitigatedMs = 0;
    // Why a figure is missing, in words; empty when it is there.
    QString detectMissing;
    QString acknowledgeMissing;
    QString mitigateMissing;
    // Said with the mitigate figure: its failures were already under the threshold when the mitigation came (so it
    // measures nothing the mitigation did).
    bool alreadyUnderAtMitigation = false;

    std::optional<qint64> detectMs() const;
    std::optional<qint64> acknowledgeMs() const;
    std::optional<qint64> mitigateMs() const;

    bool isEmpty() const { return region.isEmpty(); }
    // "EU Central: detected in 41 s, acknowledged in 3 min 10 s, mitigated in 14 min" (or why not).
    QString summary() const;
    // The moments as timeline entries (kind Metric): the first symptom, acknowledged, mitigated.
    QList<IncidentTimeline::Entry> milestones() const;
    QByteArray toJson() const;

    static constexpr qint64 kStableMs = 5 * 60 * 1000;
    static constexpr qint64 kLookBackSeconds = 6 * 3600; // how far before the verdict a symptom is looked for

    static QString duration(qint64 ms); // "41 s", "3 min 10 s", "2 h 05 min"
};

// The figures of the incident in `entries` (a timeline's, a record's or a bundle's), with the health in `history`
// and the verdict thresholds in force.
IncidentMetrics measureIncident(
    const QList<IncidentTimeline::Entry> &entries, const HealthTimeline &history, const VerdictThresholds &thresholds);
// The same for a bundle (or the local store's record read as one): its events, samples and thresholds.
IncidentMetrics measureBundle(const bundle::Bundle &bundle);

// Verdict thresholds by the names a bundle's header gives them ("degraded_packet_loss", ...), and back; a name a
// bundle does not give keeps the default, and a set that is not consistent (down below degraded) is the defaults.
QMap<QString, double> thresholdMap(const VerdictThresholds &thresholds);
VerdictThresholds thresholdsOf(const QMap<QString, double> &named);
// A bundle's blocks of samples into `history` (which must hold the bundle's window).
void loadHealth(const QList<bundle::Samples> &samples, HealthTimeline *history);

} // namespace fleet
