#include "alerts.h"

#include "clientconfig.h"
#include "commands.h"
#include "isotime.h"
#include "terminalsafe.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QUuid>

#include <optional>

namespace fleet::ctl {

namespace {

// Waits for one answer; the exit code of a failure (3 refused, 5 unreachable or unknown) in `code`.
template <typename T>
std::optional<T> await(
    const AlertOptions &o, const std::function<void(QObject *, std::function<void(ApiResult<T>)>)> &ask, int *code)
{
    std::optional<ApiResult<T>> result;
    QObject context;
    ask(&context, [&](ApiResult<T> r) { result = std::move(r); });
    if (!waitUntil([&] { return result.has_value(); }, o.timeoutSeconds * 1000)) {
        err() << "fleetctl: no answer from Alertmanager within " << o.timeoutSeconds << " s" << Qt::endl;
        *code = 5;
        return std::nullopt;
    }
    if (!result->ok()) {
        const ApiError &e = result->error();
        err() << "fleetctl: " << terminalSafe(e.message) << Qt::endl;
        const bool refused = e.kind == ApiError::Kind::Unauthorized || e.kind == ApiError::Kind::Forbidden
            || e.kind == ApiError::Kind::Invalid
            || (e.kind == ApiError::Kind::Http && e.httpStatus >= 400 && e.httpStatus < 500);
        *code = refused ? 3 : 5;
        return std::nullopt;
    }
    return result->take();
}

QString ageOf(qint64 ms)
{
    if (ms <= 0)
        return QStringLiteral("?");
    const qint64 s = std::max<qint64>(0, (QDateTime::currentMSecsSinceEpoch() - ms) / 1000);
    return s < 120 ? QStringLiteral("%1 s").arg(s)
        : s < 7200 ? QStringLiteral("%1 min").arg(s / 60)
                   : QStringLiteral("%1 h").arg(s / 3600);
}

QString remaining(qint64 endsAt)
{
    const qint64 s = (endsAt - QDateTime::currentMSecsSinceEpoch()) / 1000;
    if (s <= 0)
        return QStringLiteral("ended");
    return QStringLiteral("%1h%2m%3s left")
        .arg(s / 3600)
        .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
        .arg(s % 60, 2, 10, QLatin1Char('0'));
}

QJsonObject mapJson(const QMap<QString, QString> &m)
{
    QJsonObject o;
    for (auto it = m.cbegin(); it != m.cend(); ++it)
        o.insert(it.key(), it.value());
    return o;
}

QJsonObject alertJson(const AmAlert &a)
{
    return QJsonObject { { QStringLiteral("name"), a.name() }, { QStringLiteral("fingerprint"), a.fingerprint },
        { QStringLiteral("state"), a.state }, { QStringLiteral("labels"), mapJson(a.labels) },
        { QStringLiteral("annotations"), mapJson(a.annotations) },
        { QStringLiteral("silenced_by"), QJsonArray::fromStringList(a.silencedBy) },
        { QStringLiteral("inhibited_by"), QJsonArray::fromStringList(a.inhibitedBy) },
        { QStringLiteral("starts_at"), a.startsAt > 0 ? formatIsoUtc(a.startsAt) : QString() } };
}

QString describe(const AmAlert &a)
{
    QString state = a.state == QLatin1String("active") ? QStringLiteral("FIRING")
        : !a.silencedBy.isEmpty()  ? QStringLiteral("SILENCED by %1").arg(a.silencedBy.join(QStringLiteral(", ")))
        : !a.inhibitedBy.isEmpty() ? QStringLiteral("INHIBITED by %1").arg(a.inhibitedBy.join(QStringLiteral(", ")))
                                   : a.state.toUpper();
    const QString summary = a.annotations.value(QStringLiteral("summary"));
    return QStringLiteral("%1  %2  %3  for %4%5")
        .arg(state, a.labels.value(QStringLiteral("region"), QStringLiteral("-")), a.name(), ageOf(a.startsAt),
            summary.isEmpty() ? QString() : QStringLiteral("  ") + summary);
}

QList<AmAlert> ofRegion(const QList<AmAlert> &all, const QString &region)
{
    QList<AmAlert> out;
    for (const AmAlert &a : all)
        if (region.isEmpty() || a.labels.value(QStringLiteral("region")) == region)
            out << a;
    return out;
}

} // namespace

int runAlerts(const QStringList &args, const AlertOptions &o)
{
    AlertmanagerClient client(o.alertmanager);
    int code = 0;
    const QString command = args.value(0);
    const QString sub = args.value(1);
    using Alerts = QList<AmAlert>;
    auto fetchAlerts
        = [&client](QObject *c, std::function<void(ApiResult<Alerts>)> d) { client.alerts(c, std::move(d)); };

    if (command == QLatin1String("alerts")) {
        const auto all = await<Alerts>(o, fetchAlerts, &code);
        if (!all)
            return code;
        const Alerts shown = ofRegion(*all, o.region);
        if (o.json) {
            QJsonArray list;
            for (const AmAlert &a : shown)
                list.append(alertJson(a));
            printJson(QJsonObject { { QStringLiteral("alerts"), list },
                { QStringLiteral("polled_at"), formatIsoUtc(QDateTime::currentMSecsSinceEpoch()) } });
            return 0;
        }
        if (shown.isEmpty())
            out() << "no alerts" << (o.region.isEmpty() ? QString() : QStringLiteral(" for ") + terminalSafe(o.region))
                  << Qt::endl;
        for (const AmAlert &a : shown)
            out() << terminalSafe(describe(a)) << Qt::endl;
        return 0;
    }

    if (sub == QLatin1String("list")) {
        using Silences = QList<AmSilence>;
        const auto all = await<Silences>(
            o, [&client](QObject *c, std::function<void(ApiResult<Silences>)> d) { client.silences(c, std::move(d)); },
            &code);
        if (!all)
            return code;
        QJsonArray list;
        for (const AmSilence &s : *all) {
            QStringList matchers;
            for (const AmMatcher &m : s.matchers)
                matchers << QStringLiteral("%1%2%3\"%4\"")
                                .arg(m.name, m.isEqual ? QStringLiteral("=") : QStringLiteral("!"),
                                    m.isRegex ? QStringLiteral("~") : QString(), m.value);
            if (o.json) {
                list.append(QJsonObject { { QStringLiteral("id"), s.id }, { QStringLiteral("state"), s.state },
                    { QStringLiteral("matchers"), QJsonArray::fromStringList(matchers) },
                    { QStringLiteral("starts_at"), formatIsoUtc(s.startsAt) },
                    { QStringLiteral("ends_at"), formatIsoUtc(s.endsAt) },
                    { QStringLiteral("remaining_s"),
                        std::max<qint64>(0, (s.endsAt - QDateTime::currentMSecsSinceEpoch()) / 1000) },
                    { QStringLiteral("created_by"), s.createdBy }, { QStringLiteral("comment"), s.comment } });
                continue;
            }
            out() << terminalSafe(s.id) << "  " << s.state << "  " << terminalSafe(matchers.join(QStringLiteral(", ")))
                  << "  "
                  << (s.state == QLatin1String("expired") ? QStringLiteral("ended ") + formatIsoUtc(s.endsAt)
                                                          : remaining(s.endsAt))
                  << "  by " << terminalSafe(s.createdBy) << ": " << terminalSafe(s.comment) << Qt::endl;
        }
        if (o.json)
            printJson(QJsonObject { { QStringLiteral("silences"), list } });
        return 0;
    }

    if (sub == QLatin1String("expire")) {
        const QString id = args.value(2);
        if (const QString problem = idProblem(id, QStringLiteral("silence")); !problem.isEmpty()) {
            err() << "fleetctl silence expire: " << terminalSafe(problem) << Qt::endl;
            return 2;
        }
        if (!o.yes) {
            err() << "fleetctl silence expire: the silenced alerts will notify again; add --yes to expire " << id
                  << Qt::endl;
            return 3;
        }
        const auto done = await<bool>(
            o,
            [&client, id](
                QObject *c, std::function<void(ApiResult<bool>)> d) { client.expireSilence(id, c, std::move(d)); },
            &code);
        if (!done)
            return code;
        out() << "expired silence " << id << Qt::endl;
        return 0;
    }

    if (sub != QLatin1String("create")) {
        err() << "fleetctl silence: say create, list or expire ID" << Qt::endl;
        return 2;
    }
    if (o.region.isEmpty() || o.forSeconds <= 0 || o.reason.trimmed().isEmpty()) {
        err() << "fleetctl silence create needs --region R, --for DURATION and --reason TEXT" << Qt::endl;
        return 2;
    }
    // The preview: what it would silence now (new alerts for the region are silenced too while it lasts).
    const auto all = await<Alerts>(o, fetchAlerts, &code);
    if (!all)
        return code;
    const Alerts matched = ofRegion(*all, o.region);
    if (!o.json || !o.yes) {
        out() << "would silence every alert with region=\"" << terminalSafe(o.region) << "\" for " << o.forSeconds / 60
              << " min; firing now: " << matched.size() << Qt::endl;
        for (const AmAlert &a : matched)
            out() << "  " << terminalSafe(describe(a)) << Qt::endl;
    }
    if (!o.yes) {
        err() << "fleetctl silence create: not created; add --yes to create it" << Qt::endl;
        return 3;
    }
    const QString comment
        = o.operation.isEmpty() ? o.reason : QStringLiteral("%1 (operation %2)").arg(o.reason, o.operation);
    const QString key = QUuid::createUuid().toString(QUuid::WithoutBraces);
    const qint64 endsAt = QDateTime::currentMSecsSinceEpoch() + o.forSeconds * 1000;
    const auto id = await<QString>(
        o,
        [&](QObject *c, std::function<void(ApiResult<QString>)> d) {
            client.createSilence({ AmMatcher { QStringLiteral("region"), o.region, false, true } }, endsAt, o.createdBy,
                comment, key, c, std::move(d));
        },
        &code);
    if (!id) {
        if (code == 5)
            err() << "fleetctl silence create: whether it was created is unknown; look for "
                  << AlertmanagerClient::keyMark(key) << " in fleetctl silence list" << Qt::endl;
        return code;
    }
    if (o.json)
        printJson(QJsonObject { { QStringLiteral("id"), *id }, { QStringLiteral("region"), o.region },
            { QStringLiteral("ends_at"), formatIsoUtc(endsAt) }, { QStringLiteral("created_by"), o.createdBy },
            { QStringLiteral("matched_now"), qint64(matched.size()) } });
    else
        out() << *id << Qt::endl;
    return 0;
}

} // namespace fleet::ctl
