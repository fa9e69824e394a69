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
        { QStringLiteral("{reasons}"), values.reasons }, { QStringLiteral("{replacements}"), values.replacements },
        { QStringLiteral("{started}"), values.started } };
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

Values fromSession(const FleetSession &session)
{
    Values v;
    const FleetStore *store = session.store();
    const HealthMonitor *monitor = session.healthMonitor();
    QStringList regions;
    QStringList reasons;
    for (const Region &r : store->regions()) {
        const Verdict verdict = monitor->verdict(r.id);
        if (verdict != Verdict::Degraded && verdict != Verdict::Down)
            continue;
        regions << (r.name.isEmpty() ? r.id : r.name);
        const QString why = monitor->reason(r.id);
        if (!why.isEmpty() && !reasons.contains(why))
            reasons << why;
    }
    v.regions = listInWords(regions);
    v.reasons = listInWords(reasons);
    QStringList provisioned;
    const qint64 now = store->fleetNowMs();
    for (const Operation &op : store->operations()) {
        if (op.type != OperationType::Provision || op.state == OperationState::Failed
            || op.state == OperationState::Cancelled || now - op.createdAt > 6 * 3600 * 1000)
            continue;
        provisioned << QStringLiteral("%1 %2 %3 in %4")
                           .arg(QString::number(op.count), wireName(op.arch).toString(),
                               op.count == 1 ? QStringLiteral("worker") : QStringLiteral("workers"), op.region);
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
