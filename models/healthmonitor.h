#pragma once

#include "healthverdict.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QString>

namespace fleet {

class FleetStore;

// One change of a region's verdict: "eu-central became degraded at 09:13:05 UTC: packet loss 22%, ETIMEDOUT 6/min".
// A timestamped record: the timeline, notifications and (later) incident replay keep it as it is.
struct VerdictChange
{
    QString region; // id
    QString regionName;
    Verdict from = Verdict::NoData;
    Verdict to = Verdict::NoData;
    QString reason; // in words, as judged at that second
    qint64 atSecond = 0; // fleet time (Unix seconds, UTC) of the sample that made the change show

    QString text() const; // the sentence above
};

// The one judge of region health for a session: keeps each region's verdict (hysteresis and hold, see
// VerdictTracker) as health samples arrive, so that every view of the session (the window, the war-room display,
// notifications) shows the same verdict. Emits verdictChanged once per change of verdict, never per sample; a
// region's first verdict after a (re)load is its starting state, not a change.
class HealthMonitor : public QObject
{
    Q_OBJECT

public:
    explicit HealthMonitor(FleetStore *store, QObject *parent = nullptr);

    void setThresholds(const VerdictThresholds &thresholds);
    const VerdictThresholds &thresholds() const { return m_thresholds; }

    Verdict verdict(const QString &region) const;
    QString reason(const QString &region) const;
    RegionStats stats(const QString &region) const;
    qint64 judgedAt() const { return m_judgedAt; } // the fleet second of the last evaluation

    // Re-judges every region at the history's newest second. The store's healthChanged drives it.
    void evaluate();

Q_SIGNALS:
    void verdictChanged(const fleet::VerdictChange &change);
    void evaluated(); // after every evaluation: stats and reasons move every second
    void thresholdsChanged(const fleet::VerdictThresholds &thresholds); // the charts draw the session's lines

private:
    struct Entry
    {
        RegionStats stats;
        VerdictTracker tracker;
        bool judged = false;
        bool hadVerdict = false; // judged with data at least once since the last (re)load
    };
    void syncRegions();

    QPointer<FleetStore> m_store;
    VerdictThresholds m_thresholds;
    QHash<QString, Entry> m_regions;
    qint64 m_judgedAt = 0;
};

} // namespace fleet

Q_DECLARE_METATYPE(fleet::VerdictChange)
