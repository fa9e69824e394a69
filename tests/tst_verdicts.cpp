// The verdicts over a whole scenario, second by second as the console judges them (issue #21): the seed incident
// replayed headless from the scenario's start to 20:40 fleet time, every verdict change of every region listed.
// No region but EU Central may turn degraded or down, and EU Central only during its incident, flagged within two
// fleet minutes of its packet loss crossing 5 %; the calm scenario changes no verdict at all. Before this, customers'
// own build errors in a quiet minute turned healthy regions DEGRADED (US West at 08:47, EU Central at 08:54, US East
// four times during Monitoring).

#include "healthtimeline.h"
#include "healthverdict.h"
#include "scenario.h"
#include "simulation.h"

#include <QDateTime>
#include <QTest>

#include <map>

using namespace fleet;
using namespace fleet::sim;

namespace {

struct Change
{
    QString region;
    Verdict from;
    Verdict to;
    qint64 atMs;
    QString reason;
    QString text() const
    {
        return QStringLiteral("%1 %2 -> %3 at %4: %5")
            .arg(region, wireName(from), wireName(to),
                QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC).toString(QStringLiteral("HH:mm:ss")), reason);
    }
};

struct Run
{
    QList<Change> changes;
    std::map<QString, Verdict> last;
    qint64 lossCrossedMs = 0; // EU Central's per-second packet loss first at or above 5 %
    qint64 lossRecoveredMs = 0; // ... and last below it again
};

qint64 at(const Scenario &s, int hour, int minute)
{
    const QDateTime start = QDateTime::fromMSecsSinceEpoch(s.start, Qt::UTC);
    return QDateTime(start.date(), QTime(hour, minute), Qt::UTC).toMSecsSinceEpoch();
}

// Runs the scenario until `untilMs`, feeding each second's health sample to a timeline and judging every region
// at every second with the default thresholds, as HealthMonitor does.
Run judge(Simulation &sim, qint64 untilMs)
{
    Run run;
    HealthTimeline history(600);
    std::map<QString, VerdictTracker> trackers;
    const VerdictThresholds thresholds;
    bool lossHigh = false;
    while (sim.now() < untilMs) {
        sim.step();
        const qint64 now = sim.now();
        for (int r = 0; r < sim.regionCount(); ++r) {
            const QString id = sim.region(r).id;
            const std::vector<HealthSample> samples = sim.health(r, now, now + 1000, 1);
            if (samples.empty() || samples.front().samples == 0)
                continue;
            history.record(id, samples.front());
            if (id == QLatin1String("eu-central")) {
                const bool high = samples.front().packetLoss >= 0.05;
                if (high && !run.lossCrossedMs)
                    run.lossCrossedMs = now;
                if (lossHigh && !high)
                    run.lossRecoveredMs = now;
                lossHigh = high;
            }
            auto tracker = trackers.try_emplace(id, thresholds).first;
            const Verdict before = tracker->second.verdict();
            const RegionStats stats
                = RegionStats::fromHistory(history, history.regionIndex(id), now / 1000, thresholds.windowSeconds);
            tracker->second.update(stats, now / 1000);
            const Verdict after = tracker->second.verdict();
            // A region's first verdict is its starting state, not a change (as in HealthMonitor).
            if (before != after && before != Verdict::NoData)
                run.changes.append({ id, before, after, now, tracker->second.reason() });
            run.last[id] = after;
        }
    }
    return run;
}

QString list(const QList<Change> &changes)
{
    QStringList lines;
    for (const Change &c : changes)
        lines << c.text();
    return lines.join(u'\n');
}

std::unique_ptr<Simulation> simulate(const QString &scenario)
{
    auto s = Scenario::load(scenario);
    if (!s)
        qFatal("%s", qPrintable(s.error()));
    SimulationOptions options;
    options.seed = 1;
    options.historySeconds = 600;
    return std::make_unique<Simulation>(std::move(*s), options);
}

} // namespace

class TestVerdicts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theSeedIncidentAlarmsOnlyForEuCentral()
    {
        auto sim = simulate(QStringLiteral("upstream-packet-loss"));
        const Run run = judge(*sim, at(sim->scenario(), 20, 40));
        qInfo().noquote() << QStringLiteral("verdict changes, 08:00-20:40:\n") + list(run.changes);
        QVERIFY(run.lossCrossedMs > 0 && run.lossRecoveredMs > run.lossCrossedMs);
        qint64 flagged = 0;
        for (const Change &c : run.changes) {
            QVERIFY2(c.region == QLatin1String("eu-central"), qPrintable(QStringLiteral("a false alarm: ") + c.text()));
            // Degraded or down only during the incident: from the loss crossing 5 % until it has been gone 15 min.
            if (c.to == Verdict::Degraded || c.to == Verdict::Down)
                QVERIFY2(c.atMs >= run.lossCrossedMs && c.atMs <= run.lossRecoveredMs + 15 * 60 * 1000,
                    qPrintable(QStringLiteral("outside the incident: ") + c.text()));
            if (!flagged && c.to != Verdict::Healthy)
                flagged = c.atMs;
            // The reason names what drove it.
            if (c.to == Verdict::Degraded || c.to == Verdict::Down)
                QVERIFY2(c.reason.startsWith(QLatin1String("packet loss ")), qPrintable(c.text()));
        }
        QVERIFY2(flagged > 0, "EU Central was never flagged");
        const qint64 detectMs = flagged - run.lossCrossedMs;
        qInfo("EU Central: loss crossed 5%% at %s, flagged %lld s later; loss gone at %s",
            qPrintable(QDateTime::fromMSecsSinceEpoch(run.lossCrossedMs, Qt::UTC).toString(QStringLiteral("HH:mm:ss"))),
            detectMs / 1000,
            qPrintable(
                QDateTime::fromMSecsSinceEpoch(run.lossRecoveredMs, Qt::UTC).toString(QStringLiteral("HH:mm:ss"))));
        QVERIFY2(detectMs <= 2 * 60 * 1000,
            qPrintable(QStringLiteral("flagged %1 s after the loss crossed 5 %%").arg(detectMs / 1000)));
        // Healthy again by the end, everywhere.
        for (const auto &[region, verdict] : run.last)
            QVERIFY2(verdict == Verdict::Healthy, qPrintable(region + QStringLiteral(" ends ") + wireName(verdict)));
    }

    void theCalmScenarioChangesNoVerdict()
    {
        auto sim = simulate(QStringLiteral("calm"));
        const Run run = judge(*sim, sim->now() + 6 * 3600 * 1000LL);
        QVERIFY2(run.changes.isEmpty(), qPrintable(list(run.changes)));
        for (const auto &[region, verdict] : run.last)
            QVERIFY2(verdict == Verdict::Healthy, qPrintable(region + QStringLiteral(" is ") + wireName(verdict)));
    }
};

QTEST_APPLESS_MAIN(TestVerdicts)
#include "tst_verdicts.moc"
