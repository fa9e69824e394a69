#include "incident.h"

#include "commands.h"
#include "localstore.h"
#include "statusoutbox.h"
#include "terminalsafe.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>

namespace fleet::ctl {

using namespace statuspage;

namespace {

int usage(const QString &message)
{
    err() << "fleetctl incident: " << message << Qt::endl;
    return Usage;
}

QString utc(qint64 ms)
{
    return ms > 0 ? QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))
                  : QStringLiteral("-");
}

QJsonObject entryJson(const LocalStore::OutboxEntry &e)
{
    return { { QStringLiteral("kind"), QStringLiteral("outbox") }, { QStringLiteral("id"), e.id },
        { QStringLiteral("write"), e.kind }, { QStringLiteral("summary"), e.summary },
        { QStringLiteral("state"), e.state }, { QStringLiteral("attempts"), e.attempts },
        { QStringLiteral("error"), e.lastError }, { QStringLiteral("incident"), e.result } };
}

void printEntry(const LocalStore::OutboxEntry &e, bool json)
{
    if (json)
        printJson(entryJson(e));
    else
        out() << "#" << e.id << "  " << terminalSafe(e.summary) << "  " << terminalSafe(StatusOutbox::describe(e))
              << Qt::endl;
}

// Waits until outbox entry `id` is delivered or failed; prints the outcome; the exit code.
int deliver(StatusOutbox &outbox, qint64 id, const IncidentOptions &o)
{
    auto find = [&]() -> std::optional<LocalStore::OutboxEntry> {
        for (const auto &e : outbox.entries())
            if (e.id == id)
                return e;
        return std::nullopt;
    };
    auto settled = [&] {
        const auto e = find();
        return e && (e->state == QLatin1String("delivered") || e->state == QLatin1String("failed"));
    };
    waitUntil(settled, o.timeoutSeconds * 1000);
    const auto e = find();
    if (!e)
        return usage(QStringLiteral("the outbox lost sight of entry %1").arg(id));
    printEntry(*e, o.json);
    if (e->state == QLatin1String("delivered"))
        return Ok;
    if (e->state == QLatin1String("failed"))
        return Refused;
    if (StatusOutbox::isUnknown(*e))
        err() << "fleetctl incident: outcome unknown: it went out, and the page cannot yet be made to say whether it "
                 "has it; it is not sent again until the page says it does not"
              << Qt::endl;
    err() << "fleetctl incident: not delivered within " << o.timeoutSeconds << " s; it stays queued in the outbox ("
          << terminalSafe(LocalStore::defaultPath())
          << ") and is sent, once and in order, by the next `fleetctl incident outbox --send` or the console"
          << Qt::endl;
    return Unreachable;
}

// --component ID=STATUS (or NAME=STATUS, resolved against the page's components when they can be read).
Result<QMap<QString, QString>> components(const QStringList &specs, StatuspageClient &client)
{
    QMap<QString, QString> out;
    if (specs.isEmpty())
        return Result<QMap<QString, QString>>::success(out);
    std::optional<ApiResult<QList<Component>>> known;
    QObject context;
    client.components(&context, [&](ApiResult<QList<Component>> r) { known = std::move(r); });
    waitUntil([&] { return known.has_value(); }, 20000);
    for (const QString &spec : specs) {
        const qsizetype eq = spec.lastIndexOf(u'=');
        if (eq <= 0)
            return Result<QMap<QString, QString>>::failure(
                QStringLiteral("--component \"%1\": expected ID=STATUS, e.g. Application Builder=partial_outage")
                    .arg(spec));
        QString id = spec.left(eq).trimmed();
        const QString status = spec.mid(eq + 1).trimmed();
        if (known && known->ok())
            for (const Component &c : **known)
                if (c.name.compare(id, Qt::CaseInsensitive) == 0)
                    id = c.id;
        out.insert(id, status);
    }
    return Result<QMap<QString, QString>>::success(out);
}

int list(StatuspageClient &client, const IncidentOptions &o)
{
    std::optional<ApiResult<QList<Incident>>> got;
    QObject context;
    client.incidents({}, 25, &context, [&](ApiResult<QList<Incident>> r) { got = std::move(r); });
    if (!waitUntil([&] { return got.has_value(); }, o.timeoutSeconds * 1000)) {
        err() << "fleetctl incident: no answer from the status page within " << o.timeoutSeconds << " s" << Qt::endl;
        return Unreachable;
    }
    if (!got->ok()) {
        err() << "fleetctl incident: " << terminalSafe(got->error().message) << Qt::endl;
        return got->error().transient() ? Unreachable : Refused;
    }
    for (const Incident &i : **got) {
        if (o.json) {
            QJsonArray updates;
            for (const IncidentUpdate &u : i.updates)
                updates.append(QJsonObject { { QStringLiteral("status"), u.status }, { QStringLiteral("body"), u.body },
                    { QStringLiteral("at"), utc(u.createdAt) } });
            printJson({ { QStringLiteral("kind"), QStringLiteral("incident") }, { QStringLiteral("id"), i.id },
                { QStringLiteral("name"), i.name }, { QStringLiteral("status"), i.status },
                { QStringLiteral("impact"), i.impact }, { QStringLiteral("created_at"), utc(i.createdAt) },
                { QStringLiteral("updates"), updates } });
            continue;
        }
        out() << terminalSafe(i.id) << "  " << terminalSafe(inWords(i.status)).leftJustified(13) << "  "
              << utc(i.createdAt) << "  " << terminalSafe(i.name) << Qt::endl;
        if (!i.updates.isEmpty())
            out() << "    last update " << utc(i.updates.front().createdAt) << ": "
                  << terminalSafe(i.updates.front().body.left(160)) << Qt::endl;
    }
    if (!o.json && got->value().isEmpty())
        out() << "no incidents on the page" << Qt::endl;
    return Ok;
}

} // namespace

int runIncident(const QStringList &args, const IncidentOptions &o)
{
    const QString verb = args.value(1);
    static const QStringList verbs { QStringLiteral("open"), QStringLiteral("update"), QStringLiteral("resolve"),
        QStringLiteral("list"), QStringLiteral("postmortem"), QStringLiteral("outbox") };
    if (!verbs.contains(verb))
        return usage(QStringLiteral("say what to do: %1").arg(verbs.join(QLatin1String(", "))));

    LocalStore store;
    if (Status opened = store.open(o.storePath); !opened) {
        err() << "fleetctl incident: " << terminalSafe(opened.error()) << Qt::endl;
        return Refused;
    }
    StatusOutbox outbox(&store);

    if (verb == QLatin1String("outbox")) {
        if (o.send && o.page.problem().isEmpty()) {
            outbox.setConfig(o.page);
            waitUntil([&] { return outbox.pendingCount() == 0; }, o.timeoutSeconds * 1000);
        } else if (o.send) {
            return usage(o.page.problem());
        }
        const auto entries = outbox.entries();
        for (const auto &e : entries)
            printEntry(e, o.json);
        if (!o.json) {
            if (entries.isEmpty())
                out() << "the outbox is empty" << Qt::endl;
            else if (outbox.pendingCount() > 0)
                out() << terminalSafe(outbox.summary()) << Qt::endl;
        }
        return outbox.pendingCount() > 0 && o.send ? Unreachable : Ok;
    }

    if (const QString problem = o.page.problem(); !problem.isEmpty())
        return usage(problem);
    StatuspageClient client(o.page);
    if (verb == QLatin1String("list"))
        return list(client, o);

    const QString incident = args.value(2);
    if (verb != QLatin1String("open") && incident.isEmpty())
        return usage(QStringLiteral("%1 needs the incident's id (fleetctl incident list shows them)").arg(verb));
    Result<qint64> queued = Result<qint64>::failure(QString());
    if (verb == QLatin1String("postmortem")) {
        if (o.file.isEmpty())
            return usage(QStringLiteral("postmortem needs --file MARKDOWN"));
        QFile f(o.file);
        if (f.size() > 4 * kMaxBody || !f.open(QIODevice::ReadOnly))
            return usage(QStringLiteral("cannot read %1: %2")
                             .arg(o.file, f.size() > 4 * kMaxBody ? QStringLiteral("too large") : f.errorString()));
        queued = outbox.putPostmortem(incident, QString::fromUtf8(f.readAll()));
        if (queued.ok() && o.publish) {
            outbox.setConfig(o.page);
            if (const int code = deliver(outbox, *queued, o); code != Ok)
                return code;
            queued = outbox.publishPostmortem(incident, o.notify == 1);
        }
    } else {
        IncidentChange change;
        change.name = o.name;
        change.status = verb == QLatin1String("resolve") ? QStringLiteral("resolved") : o.status;
        change.body = o.body;
        change.impactOverride = o.impact;
        change.deliverNotifications = o.notify != 0; // the API's default; --no-notify to post quietly
        auto mapped = components(o.components, client);
        if (!mapped.ok())
            return usage(mapped.error());
        change.components = mapped.take();
        if (verb == QLatin1String("open"))
            queued = outbox.open(change);
        else if (verb == QLatin1String("update"))
            queued = outbox.update(incident, change);
        else
            queued = outbox.resolve(incident, change);
    }
    if (!queued.ok())
        return usage(queued.error());
    outbox.setConfig(o.page);
    return deliver(outbox, *queued, o);
}

} // namespace fleet::ctl
