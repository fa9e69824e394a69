#include "statustemplates.h"

#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "incidenttimeline.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>

namespace fleet::statustemplates {

QString listInWords(const QStringList &items)
{
    if (items.size() <= 1)
        return items.value(0);
    return QStringList(items.mid(0, items.size() - 1)).join(QLatin1String(", ")) + QStringLiteral(" and ")
        + items.last();
}

QString load(const QString &name)
{
    const QString file = name + QStringLiteral(".txt");
    const QString user = QStandardPaths::locate(QStandardPaths::AppConfigLocation, QStringLiteral("templates/") + file);
    for (const QString &path : QStringList { user, QStringLiteral(":/templates/") + file }) {
        if (path.isEmpty())
            continue;
        QFile f(path);
        if (f.size() <= 64 * 1024 && f.open(QIODevice::ReadOnly))
            return QString::fromUtf8(f.readAll()).trimmed();
    }
    return {};
}

QString fill(const QString &text, const Values &values)
{
    const QList<QPair<QString, QString>> map { { QStringLiteral("{regions}"), values.regions },
        { QStringLiteral("{reasons}"), values.reasons }, { QStringLiteral("{symptoms}"), values.symptoms },
        { QStringLiteral("{replacements}"), values.replacements }, { QStringLiteral("{started}"), values.started } };
    // Sentences end at ". ", "! " or "? " (or the end); each keeps its punctuation.
    static const QRegularExpression sentence(QStringLiteral("[^.!?]*(?:[.!?]+|$)\\s*"));
    QString out;
    auto it = sentence.globalMatch(text);
    while (it.hasNext()) {
        QString s = it.next().captured(0);
        if (s.isEmpty())
            continue;
        bool dropped = false;
        for (const auto &[key, value] : map) {
            if (!s.contains(key))
                continue;
            if (value.isEmpty()) {
                dropped = true;
                break;
            }
            s.replace(key, value);
        }
        if (!dropped)
            out += s;
    }
    return out.trimmed();
}

QStringList symptomsOf(const RegionStats &stats, const VerdictThresholds &t)
{
    QStringList out;
    if (stats.packetLoss >= t.degradedPacketLoss * t.hysteresis)
        out << QStringLiteral("packet loss");
    // Failures the fleet caused, named by their kind, when they are a noticeable share of the builds.
    if (stats.finishedBuilds() >= t.minFinishedBuilds
        && stats.infrastructureFailureLowerBound() >= t.degradedFailureRatio * t.hysteresis) {
        const int timeouts = stats.failures[int(FailureReason::ETimedOut)];
        const int resets = stats.failures[int(FailureReason::EConnReset)];
        const int unreachable = stats.failures[int(FailureReason::EHostUnreach)];
        if (timeouts > 0)
            out << QStringLiteral("connection timeouts");
        if (resets > 0)
            out << QStringLiteral("dropped connections");
        if (unreachable > 0)
            out << QStringLiteral("unreachable workers");
    }
    if (stats.rttP95Ms >= t.degradedRttP95Ms * t.hysteresis)
        out << QStringLiteral("slow connections");
    return out;
}

Values fromSession(const FleetSession &session)
{
    Values v;
    const FleetStore *store = session.store();
    const HealthMonitor *monitor = session.healthMonitor();
    QStringList regions;
    QStringList reasons;
    QStringList symptoms;
    for (const Region &r : store->regions()) {
        const Verdict verdict = monitor->verdict(r.id);
        if (verdict != Verdict::Degraded && verdict != Verdict::Down)
            continue;
        regions << (r.name.isEmpty() ? r.id : r.name);
        const QString why = monitor->reason(r.id);
        if (!why.isEmpty() && !reasons.contains(why))
            reasons << why;
        for (const QString &symptom : symptomsOf(monitor->stats(r.id), monitor->thresholds())) {
            if (!symptoms.contains(symptom))
                symptoms << symptom;
        }
    }
    v.regions = listInWords(regions);
    v.reasons = listInWords(reasons);
    v.symptoms = listInWords(symptoms);
    QStringList provisioned;
    const qint64 now = store->fleetNowMs();
    for (const Operation &op : store->operations()) {
        if (op.type != OperationType::Provision || op.state == OperationState::Failed
            || op.state == OperationState::Cancelled || now - op.createdAt > 6 * 3600 * 1000)
            continue;
        // Where, as customers know the regions: by name.
        const int row = store->regionRow(op.region);
        const QString where = row >= 0 && !store->regions()[std::size_t(row)].name.isEmpty()
            ? store->regions()[std::size_t(row)].name
            : op.region;
        provisioned << QStringLiteral("%1 %2 %3 in %4")
                           .arg(QString::number(op.count), wireName(op.arch).toString(),
                               op.count == 1 ? QStringLiteral("worker") : QStringLiteral("workers"), where);
    }
    v.replacements = listInWords(provisioned);
    for (const auto &e : session.timeline()->verdicts())
        if (e.detail == QLatin1String("degraded") || e.detail == QLatin1String("down")) {
            v.started = QDateTime::fromMSecsSinceEpoch(e.atMs, Qt::UTC).toString(QStringLiteral("HH:mm 'UTC'"));
            break;
        }
    return v;
}

} // namespace fleet::statustemplates
