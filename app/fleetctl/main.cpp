// fleetctl: the command-line companion of Fleet Console, for scripted runbooks (see docs/fleetctl.md).

#include "alerts.h"
#include "commands.h"
#include "fleetconnection.h"
#include "history.h"
#include "incident.h"
#include "incidentrecorder.h"
#include "isotime.h"
#include "localstore.h"
#include "record.h"
#include "terminalsafe.h"
#include "tokensource.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMap>
#include <QTextStream>
#include <QTimer>

#include <csignal>

using namespace fleet;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

int fail(const QString &message)
{
    QTextStream(stderr) << "fleetctl: " << message << '\n';
    return 2;
}

QString now()
{
    return formatIsoUtc(QDateTime::currentMSecsSinceEpoch() / 1000 * 1000);
}

// Prints connection states and running event counts, one line each, as text or JSON lines.
class Watcher : public QObject
{
public:
    Watcher(FleetConnection *connection, bool json, int intervalSeconds)
        : m_connection(connection)
        , m_json(json)
    {
        connect(connection, &FleetConnection::statusChanged, this, &Watcher::printStatus);
        connect(connection, &FleetConnection::identityReceived, this, [this](const Identity &id) {
            if (m_json)
                line(QJsonObject { { QStringLiteral("kind"), QStringLiteral("identity") },
                    { QStringLiteral("name"), id.name }, { QStringLiteral("role"), wireName(id.role).toString() } });
            else
                out() << now() << " identity " << terminalSafe(id.name) << " (" << wireName(id.role) << ")" << Qt::endl;
        });
        connect(connection, &FleetConnection::snapshotReceived, this, [this](const Snapshot &s) {
            ++m_snapshots;
            if (m_json)
                line(QJsonObject { { QStringLiteral("kind"), QStringLiteral("snapshot") },
                    { QStringLiteral("sequence"), s.sequence }, { QStringLiteral("workers"), qint64(s.workers.size()) },
                    { QStringLiteral("regions"), qint64(s.regions.size()) } });
            else
                out() << now() << " snapshot sequence=" << s.sequence << " workers=" << s.workers.size()
                      << " regions=" << s.regions.size() << Qt::endl;
        });
        connect(connection, &FleetConnection::eventReceived, this, [this](const FleetEvent &e) {
            ++m_counts[e.type];
            ++m_total;
        });
        m_sinceCounts.start();
        m_timer.setInterval(intervalSeconds * 1000);
        connect(&m_timer, &QTimer::timeout, this, &Watcher::printCounts);
        m_timer.start();
    }

    void printCounts()
    {
        const qint64 delta = m_total - m_lastTotal;
        // Over the time since the last line (the final line comes early, on Ctrl-C), not the whole interval.
        const double rate = double(delta) * 1000.0 / double(std::max<qint64>(1, m_sinceCounts.restart()));
        m_lastTotal = m_total;
        const ConnectionStatus &s = m_connection->status();
        if (m_json) {
            QJsonObject events;
            for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it)
                events.insert(it.key(), it.value());
            line(QJsonObject { { QStringLiteral("kind"), QStringLiteral("counts") },
                { QStringLiteral("events"), events }, { QStringLiteral("total"), m_total },
                { QStringLiteral("per_second"), rate }, { QStringLiteral("snapshots"), m_snapshots },
                { QStringLiteral("state"), wireName(s.state) }, { QStringLiteral("data_age_ms"), s.dataAgeMs() } });
            return;
        }
        QString parts;
        for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it)
            parts += QStringLiteral("%1=%2 ").arg(terminalSafe(it.key())).arg(it.value());
        out() << now() << " events " << parts << "total=" << m_total << " (" << QString::number(rate, 'f', 1)
              << "/s) snapshots=" << m_snapshots << " data_age="
              << (s.dataAgeMs() < 0 ? QStringLiteral("never") : QString::number(s.dataAgeMs() / 1000.0, 'f', 1) + u's')
              << Qt::endl;
    }

private:
    void printStatus(const ConnectionStatus &s)
    {
        if (m_json) {
            QJsonObject o { { QStringLiteral("kind"), QStringLiteral("state") },
                { QStringLiteral("state"), wireName(s.state) } };
            if (!s.reason.isEmpty())
                o.insert(QStringLiteral("reason"), s.reason);
            if (s.state == ConnectionState::Reconnecting) {
                o.insert(QStringLiteral("attempt"), s.attempt);
                o.insert(QStringLiteral("next_attempt_in_ms"), s.nextAttemptInMs());
            }
            o.insert(QStringLiteral("data_age_ms"), s.dataAgeMs());
            if (s.insecure)
                o.insert(QStringLiteral("insecure"), true);
            line(o);
            return;
        }
        out() << now() << " state " << wireName(s.state);
        if (s.state == ConnectionState::Reconnecting && s.attempt > 0)
            out() << " attempt=" << s.attempt << " next=" << QString::number(s.nextAttemptInMs() / 1000.0, 'f', 1)
                  << 's';
        if (!s.reason.isEmpty())
            out() << " reason=\"" << terminalSafe(s.reason) << '"';
        if (s.insecure)
            out() << " INSECURE: TLS certificates are not checked";
        out() << Qt::endl;
    }

    void line(QJsonObject o)
    {
        o.insert(QStringLiteral("time"), now());
        out() << QJsonDocument(o).toJson(QJsonDocument::Compact) << Qt::endl;
    }

    FleetConnection *m_connection;
    bool m_json;
    QTimer m_timer;
    QElapsedTimer m_sinceCounts;
    QMap<QString, qint64> m_counts;
    qint64 m_total = 0;
    qint64 m_lastTotal = 0;
    qint64 m_snapshots = 0;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("fleetctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FLEET_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Fleet Console's command-line companion.\n\n"
        "Commands:\n"
        "  watch                       print connection states and event counts until stopped\n"
        "  status                      regions: verdict and why, dispatch state, workers, capacity left\n"
        "  recommend [--region R]      what to provision elsewhere for a region in trouble\n"
        "  operations [--watch]        operations in flight and recent ones (and every change, with --watch)\n"
        "  provision --region R --count N --arch A --reason TEXT [--expires DURATION]\n"
        "  drain region R --reason TEXT [--expires DURATION]\n"
        "  drain worker ID --reason TEXT\n"
        "  resume region R --reason TEXT\n"
        "  cancel OPERATION --reason TEXT\n"
        "  incident open --name TEXT --status STATUS --body TEXT [--component ID=STATUS]... [--impact I]\n"
        "                [--notify|--no-notify]\n"
        "  incident update ID --status STATUS --body TEXT [--component ID=STATUS]...\n"
        "  incident resolve ID --body TEXT     (every affected component back to operational)\n"
        "  incident list\n"
        "  incident postmortem ID --file MD [--publish]\n"
        "  incident outbox [--send]            what is queued for the status page, and why\n"
        "  incident export --out FILE [--from T] [--to T] [--api URL]\n"
        "                              the console's incident record (local store) as a bundle\n"
        "  incident metrics [--bundle FILE] [--from T] [--to T] [--api URL] [--json]\n"
        "                              time to detect, acknowledge and mitigate, from a bundle or the record\n"
        "  record --api URL --for DURATION --out FILE\n"
        "                              the live fleet straight into an incident bundle\n"
        "  history --prometheus URL --region R [--range DURATION] [--queries FILE] [--scrape-interval S]\n"
        "                              the series the charts would draw, from the fleet's own Prometheus\n"
        "                              (credentials from PROMETHEUS_TOKEN or PROMETHEUS_BASIC_AUTH=user:password)\n"
        "  alerts --alertmanager URL [--region R]      firing, silenced and inhibited alerts\n"
        "  silence create --alertmanager URL --region R --for DURATION --reason TEXT [--operation OP] --yes\n"
        "  silence list --alertmanager URL\n"
        "  silence expire ID --alertmanager URL --yes\n"
        "                              (credentials from ALERTMANAGER_TOKEN or ALERTMANAGER_BASIC_AUTH)\n\n"
        "Mutating commands show the server's dry run first, then ask (type the region name for a region-wide or\n"
        "large change); without a terminal they need --yes. Exit status: 0 done, 2 bad usage, 3 refused\n"
        "(403/409/422, role, not confirmed), 4 the operation failed or was cancelled, 5 unreachable or no\n"
        "answer (whether it happened is unknown: the idempotency key is printed).\n\n"
        "The token comes from FLEET_TOKEN or --token-file (readable by its owner only). Incident commands need\n"
        "--statuspage-url URL (default https://api.statuspage.io/v1) and --page-id ID, and the page's API key\n"
        "from STATUSPAGE_API_KEY or --key-file; their writes go through the console's outbox (delivered once,\n"
        "in order; kept while the page is unreachable)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("command"),
        QStringLiteral("watch, status, recommend, operations, provision, drain, resume, cancel, incident, history, "
                       "alerts, silence or record"));
    const QCommandLineOption apiOpt(QStringLiteral("api"),
        QStringLiteral("Fleet API base URL, e.g. http://127.0.0.1:8080."), QStringLiteral("url"));
    const QCommandLineOption tokenFileOpt(
        QStringLiteral("token-file"), QStringLiteral("Read the token from this file."), QStringLiteral("file"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("Print JSON lines instead of text."));
    const QCommandLineOption intervalOpt(QStringLiteral("interval"),
        QStringLiteral("Seconds between event count lines (default 5)."), QStringLiteral("seconds"),
        QStringLiteral("5"));
    const QCommandLineOption caOpt(QStringLiteral("ca-file"),
        QStringLiteral("Also trust the CA certificates in this PEM file."), QStringLiteral("file"));
    const QCommandLineOption insecureOpt(QStringLiteral("insecure"),
        QStringLiteral("Do not verify TLS certificates (development only; reported on every state line)."));
    const QCommandLineOption regionOpt(QStringLiteral("region"), QStringLiteral("Region id."), QStringLiteral("id"));
    const QCommandLineOption countOpt(
        QStringLiteral("count"), QStringLiteral("Workers to provision."), QStringLiteral("n"));
    const QCommandLineOption archOpt(
        QStringLiteral("arch"), QStringLiteral("amd64, aarch64 or armv7hf."), QStringLiteral("arch"));
    const QCommandLineOption reasonOpt(
        QStringLiteral("reason"), QStringLiteral("Why, in words (required to act)."), QStringLiteral("text"));
    const QCommandLineOption expiresOpt(QStringLiteral("expires"),
        QStringLiteral("Time-box: the workers retire (or the region resumes) after this long, e.g. 2h, 90m."),
        QStringLiteral("duration"));
    const QCommandLineOption dryRunOpt(
        QStringLiteral("dry-run"), QStringLiteral("Show what would happen; send nothing."));
    const QCommandLineOption yesOpt(QStringLiteral("yes"), QStringLiteral("Do not ask for confirmation."));
    const QCommandLineOption waitOpt(QStringLiteral("wait"),
        QStringLiteral("Follow the operation until it is really done (workers taking builds), for at most --timeout "
                       "seconds when given, else 30 minutes (exit 7 if it is still running then)."));
    const QCommandLineOption watchOpt(QStringLiteral("watch"), QStringLiteral("operations: keep printing changes."));
    const QCommandLineOption productionOpt(QStringLiteral("production"),
        QStringLiteral("Confirm as on a production fleet (type the region name for any change)."));
    const QCommandLineOption timeoutOpt(QStringLiteral("timeout"),
        QStringLiteral("Seconds to wait for a live connection and for an answer (default 60)."),
        QStringLiteral("seconds"), QStringLiteral("60"));
    const QCommandLineOption pageUrlOpt(QStringLiteral("statuspage-url"),
        QStringLiteral("Statuspage API base URL with the version (default https://api.statuspage.io/v1)."),
        QStringLiteral("url"), QStringLiteral("https://api.statuspage.io/v1"));
    const QCommandLineOption pageIdOpt(
        QStringLiteral("page-id"), QStringLiteral("Status page id."), QStringLiteral("id"));
    const QCommandLineOption keyFileOpt(QStringLiteral("key-file"),
        QStringLiteral("Read the status page API key from this file (readable by its owner only)."),
        QStringLiteral("file"));
    const QCommandLineOption nameOpt(QStringLiteral("name"), QStringLiteral("Incident name."), QStringLiteral("text"));
    const QCommandLineOption statusOpt(QStringLiteral("status"),
        QStringLiteral("investigating, identified, monitoring or resolved."), QStringLiteral("status"));
    const QCommandLineOption bodyOpt(
        QStringLiteral("body"), QStringLiteral("The update's words."), QStringLiteral("text"));
    const QCommandLineOption componentOpt(QStringLiteral("component"),
        QStringLiteral("A component and its status, by id or name: ID=partial_outage (repeatable)."),
        QStringLiteral("id=status"));
    const QCommandLineOption impactOpt(
        QStringLiteral("impact"), QStringLiteral("none, minor, major or critical."), QStringLiteral("impact"));
    const QCommandLineOption notifyOpt(QStringLiteral("notify"), QStringLiteral("Notify subscribers (the default)."));
    const QCommandLineOption noNotifyOpt(
        QStringLiteral("no-notify"), QStringLiteral("Post without notifying subscribers."));
    const QCommandLineOption fileOpt(
        QStringLiteral("file"), QStringLiteral("Postmortem Markdown file."), QStringLiteral("file"));
    const QCommandLineOption publishOpt(
        QStringLiteral("publish"), QStringLiteral("postmortem: publish it after the draft."));
    const QCommandLineOption sendOpt(QStringLiteral("send"), QStringLiteral("outbox: deliver what is queued now."));
    const QCommandLineOption prometheusOpt(QStringLiteral("prometheus"),
        QStringLiteral("history: the fleet's Prometheus, e.g. http://127.0.0.1:9090."), QStringLiteral("url"));
    const QCommandLineOption rangeOpt(QStringLiteral("range"),
        QStringLiteral("history: how far back, e.g. 1h, 24h, 7d (default 1h)."), QStringLiteral("duration"),
        QStringLiteral("1h"));
    const QCommandLineOption queriesOpt(QStringLiteral("queries"),
        QStringLiteral("history: a JSON file of PromQL per series (docs/fleetctl.md); default: fleet-sim's metrics."),
        QStringLiteral("file"));
    const QCommandLineOption alertmanagerOpt(QStringLiteral("alertmanager"),
        QStringLiteral("alerts, silence: the fleet's Alertmanager (any member of its cluster), e.g. "
                       "http://127.0.0.1:9093."),
        QStringLiteral("url"));
    const QCommandLineOption forOpt(QStringLiteral("for"),
        QStringLiteral("silence create, record: how long, e.g. 30m, 2h (at most 7d)."), QStringLiteral("duration"));
    const QCommandLineOption outOpt(QStringLiteral("out"),
        QStringLiteral("incident export, record: the incident bundle to write."), QStringLiteral("file"));
    const QCommandLineOption bundleOpt(QStringLiteral("bundle"),
        QStringLiteral("incident metrics: read this incident bundle instead of the local store's record."),
        QStringLiteral("file"));
    const QCommandLineOption fromOpt(QStringLiteral("from"),
        QStringLiteral("incident export, metrics: from this UTC time, e.g. 2025-11-12T08:30:00Z."),
        QStringLiteral("time"));
    const QCommandLineOption toOpt(
        QStringLiteral("to"), QStringLiteral("incident export, metrics: up to this UTC time."), QStringLiteral("time"));
    const QCommandLineOption operationOpt(QStringLiteral("operation"),
        QStringLiteral("silence create: the operation the silence belongs to (written into its comment)."),
        QStringLiteral("id"));
    const QCommandLineOption scrapeOpt(QStringLiteral("scrape-interval"),
        QStringLiteral("history: Prometheus's scrape interval in seconds, the finest step asked (default 15)."),
        QStringLiteral("seconds"), QStringLiteral("15"));
    parser.addOptions({ apiOpt, tokenFileOpt, jsonOpt, intervalOpt, caOpt, insecureOpt, regionOpt, countOpt, archOpt,
        reasonOpt, expiresOpt, dryRunOpt, yesOpt, waitOpt, watchOpt, productionOpt, timeoutOpt, pageUrlOpt, pageIdOpt,
        keyFileOpt, nameOpt, statusOpt, bodyOpt, componentOpt, impactOpt, notifyOpt, noNotifyOpt, fileOpt, publishOpt,
        sendOpt, prometheusOpt, rangeOpt, queriesOpt, scrapeOpt, alertmanagerOpt, forOpt, operationOpt, outOpt,
        bundleOpt, fromOpt, toOpt });
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    if (args.isEmpty())
        return fail(QStringLiteral("say what to do: fleetctl watch --api URL (see fleetctl --help)"));
    static const QStringList commands { QStringLiteral("watch"), QStringLiteral("status"), QStringLiteral("recommend"),
        QStringLiteral("operations"), QStringLiteral("provision"), QStringLiteral("drain"), QStringLiteral("resume"),
        QStringLiteral("cancel"), QStringLiteral("incident"), QStringLiteral("history"), QStringLiteral("alerts"),
        QStringLiteral("silence"), QStringLiteral("record") };
    if (!commands.contains(args.first()))
        return fail(QStringLiteral("unknown command \"%1\"; the commands are: %2")
                        .arg(terminalSafe(args.first()), commands.join(QStringLiteral(", "))));
    bool timeoutOk = false;
    const int timeoutSeconds = parser.value(timeoutOpt).toInt(&timeoutOk);
    if (!timeoutOk || timeoutSeconds < 1)
        return fail(QStringLiteral("--timeout must be a whole number of seconds, at least 1"));
    ctl::RecordOptions record;
    record.storePath = LocalStore::defaultPath();
    record.out = parser.value(outOpt);
    record.bundle = parser.value(bundleOpt);
    record.json = parser.isSet(jsonOpt);
    for (const auto &[opt, into] : { std::pair { &fromOpt, &record.fromMs }, std::pair { &toOpt, &record.toMs } }) {
        if (!parser.isSet(*opt))
            continue;
        const std::optional<qint64> t = parseIsoUtc(parser.value(*opt));
        if (!t)
            return fail(QStringLiteral("--%1 must be a UTC time such as 2025-11-12T08:30:00Z, not \"%2\"")
                            .arg(opt->names().constFirst(), terminalSafe(parser.value(*opt), 80)));
        *into = *t;
    }
    if (record.fromMs && record.toMs && record.toMs < record.fromMs)
        return fail(QStringLiteral("--to is before --from"));
    if (args.first() == QLatin1String("incident")
        && (args.value(1) == QLatin1String("export") || args.value(1) == QLatin1String("metrics"))) {
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        if (parser.isSet(apiOpt))
            record.fleet = IncidentRecorder::fleetKey(QUrl(parser.value(apiOpt), QUrl::StrictMode));
        return ctl::runIncidentRecord(args, record);
    }
    if (args.first() == QLatin1String("incident")) {
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        ctl::IncidentOptions o;
        o.page.baseUrl = QUrl(parser.value(pageUrlOpt), QUrl::StrictMode);
        o.page.pageId = parser.value(pageIdOpt);
        o.page.caFile = parser.value(caOpt);
        o.page.insecure = parser.isSet(insecureOpt);
        const bool needsKey = !(args.value(1) == QLatin1String("outbox") && !parser.isSet(sendOpt));
        if (needsKey) {
            const Result<QString> key = tokens::statusPageKey(parser.value(keyFileOpt));
            if (!key)
                return fail(key.error()
                    + (parser.isSet(keyFileOpt) ? QString()
                                                : QStringLiteral(" Set STATUSPAGE_API_KEY or use --key-file FILE.")));
            o.page.apiKey = key.value();
        }
        o.storePath = LocalStore::defaultPath();
        o.json = parser.isSet(jsonOpt);
        o.name = parser.value(nameOpt);
        o.status = parser.value(statusOpt);
        o.body = parser.value(bodyOpt);
        o.components = parser.values(componentOpt);
        o.impact = parser.value(impactOpt);
        if (parser.isSet(notifyOpt) && parser.isSet(noNotifyOpt))
            return fail(QStringLiteral("--notify or --no-notify, not both"));
        o.notify = parser.isSet(notifyOpt) ? 1 : parser.isSet(noNotifyOpt) ? 0 : -1;
        o.file = parser.value(fileOpt);
        o.publish = parser.isSet(publishOpt);
        o.send = parser.isSet(sendOpt);
        o.timeoutSeconds = timeoutSeconds;
        return ctl::runIncident(args, o);
    }
    if (args.first() == QLatin1String("alerts") || args.first() == QLatin1String("silence")) {
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        ctl::AlertOptions o;
        if (!parser.isSet(alertmanagerOpt))
            return fail(QStringLiteral("%1 needs --alertmanager URL, e.g. --alertmanager http://127.0.0.1:9093")
                            .arg(args.first()));
        o.alertmanager.url = QUrl(parser.value(alertmanagerOpt), QUrl::StrictMode);
        if (const QString problem = o.alertmanager.problem(); !problem.isEmpty())
            return fail(QStringLiteral("--alertmanager: ") + problem);
        o.alertmanager.bearerToken = qEnvironmentVariable("ALERTMANAGER_TOKEN");
        o.alertmanager.basicAuth = qEnvironmentVariable("ALERTMANAGER_BASIC_AUTH");
        o.alertmanager.caFile = parser.value(caOpt);
        o.alertmanager.insecure = parser.isSet(insecureOpt);
        o.alertmanager.requestTimeoutMs = std::min(timeoutSeconds, 120) * 1000;
        o.region = parser.value(regionOpt);
        if (!o.region.isEmpty())
            if (const QString problem = idProblem(o.region, QStringLiteral("region")); !problem.isEmpty())
                return fail(problem);
        if (parser.isSet(forOpt)) {
            const qint64 ms = ctl::parseDuration(parser.value(forOpt));
            if (ms < 60000 || ms > 7LL * 86400 * 1000)
                return fail(QStringLiteral("--for must be a duration from 1m to 7d, e.g. 30m, 2h"));
            o.forSeconds = ms / 1000;
        }
        o.reason = parser.value(reasonOpt);
        o.operation = parser.value(operationOpt);
        if (!o.operation.isEmpty())
            if (const QString problem = idProblem(o.operation, QStringLiteral("operation")); !problem.isEmpty())
                return fail(problem);
        const QString user = qEnvironmentVariable("USER", QStringLiteral("someone"));
        o.createdBy = QStringLiteral("%1 (fleetctl)").arg(user.left(64));
        o.yes = parser.isSet(yesOpt);
        o.json = parser.isSet(jsonOpt);
        o.timeoutSeconds = timeoutSeconds;
        return ctl::runAlerts(args, o);
    }
    if (args.first() == QLatin1String("history")) {
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        ctl::HistoryOptions o;
        if (!parser.isSet(prometheusOpt))
            return fail(QStringLiteral("history needs --prometheus URL, e.g. --prometheus http://127.0.0.1:9090"));
        o.prometheus.url = QUrl(parser.value(prometheusOpt), QUrl::StrictMode);
        if (const QString problem = o.prometheus.problem(); !problem.isEmpty())
            return fail(QStringLiteral("--prometheus: ") + problem);
        // Credentials from the environment only: never on the command line, where ps and the shell history see them.
        o.prometheus.bearerToken = qEnvironmentVariable("PROMETHEUS_TOKEN");
        o.prometheus.basicAuth = qEnvironmentVariable("PROMETHEUS_BASIC_AUTH");
        o.prometheus.caFile = parser.value(caOpt);
        o.prometheus.insecure = parser.isSet(insecureOpt);
        o.prometheus.requestTimeoutMs = std::min(timeoutSeconds, 120) * 1000;
        o.region = parser.value(regionOpt);
        if (o.region.isEmpty())
            return fail(QStringLiteral("history needs --region R"));
        if (const QString problem = idProblem(o.region, QStringLiteral("region")); !problem.isEmpty())
            return fail(problem);
        const qint64 range = ctl::parseDuration(parser.value(rangeOpt));
        if (range < 60000 || range > 90LL * 86400 * 1000)
            return fail(QStringLiteral("--range must be a duration from 1m to 90d, e.g. 1h, 24h, 7d"));
        o.rangeSeconds = range / 1000;
        bool scrapeOk = false;
        o.scrapeSeconds = parser.value(scrapeOpt).toInt(&scrapeOk);
        if (!scrapeOk || o.scrapeSeconds < 1 || o.scrapeSeconds > 3600)
            return fail(QStringLiteral("--scrape-interval must be whole seconds from 1 to 3600"));
        o.queriesFile = parser.value(queriesOpt);
        o.json = parser.isSet(jsonOpt);
        o.timeoutSeconds = timeoutSeconds;
        return ctl::runHistory(o);
    }
    if (!parser.isSet(apiOpt))
        return fail(QStringLiteral("--api URL is required, e.g. --api http://127.0.0.1:8080"));

    ClientConfig config;
    config.baseUrl = QUrl(parser.value(apiOpt), QUrl::StrictMode);
    if (!config.baseUrl.isValid() || config.baseUrl.host().isEmpty()
        || (config.baseUrl.scheme() != QLatin1String("http") && config.baseUrl.scheme() != QLatin1String("https")))
        return fail(
            QStringLiteral("--api \"%1\" is not an http:// or https:// URL with a host").arg(parser.value(apiOpt)));
    const Result<QString> token
        = parser.isSet(tokenFileOpt) ? tokens::fromFile(parser.value(tokenFileOpt)) : tokens::fromEnvironment();
    if (!token)
        return fail(token.error()
            + (parser.isSet(tokenFileOpt) ? QString() : QStringLiteral(" Set FLEET_TOKEN or use --token-file FILE.")));
    config.token = token.value();
    config.caFile = parser.value(caOpt);
    config.insecure = parser.isSet(insecureOpt);
    bool ok = false;
    const int interval = parser.value(intervalOpt).toInt(&ok);
    if (!ok || interval < 1)
        return fail(QStringLiteral("--interval must be a whole number of seconds, at least 1"));

    if (args.first() == QLatin1String("record")) {
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        ctl::Options o;
        o.config = config;
        o.json = parser.isSet(jsonOpt);
        o.timeoutSeconds = timeoutSeconds;
        record.forMs = parser.isSet(forOpt) ? ctl::parseDuration(parser.value(forOpt)) : 0;
        return ctl::runRecord(o, record);
    }
    if (args.first() != QLatin1String("watch")) {
        // The result is the output; the client's progress lines would bury it (warnings still show).
        QLoggingCategory::setFilterRules(QStringLiteral("fleet.*.info=false"));
        ctl::Options o;
        o.config = config;
        o.json = parser.isSet(jsonOpt);
        o.yes = parser.isSet(yesOpt);
        o.dryRun = parser.isSet(dryRunOpt);
        o.wait = parser.isSet(waitOpt);
        o.watch = parser.isSet(watchOpt);
        o.production = parser.isSet(productionOpt);
        o.region = parser.value(regionOpt);
        o.arch = parser.value(archOpt);
        o.reason = parser.value(reasonOpt);
        o.expires = parser.value(expiresOpt);
        if (parser.isSet(countOpt)) {
            o.count = parser.value(countOpt).toInt(&ok);
            if (!ok || o.count < 1)
                return fail(QStringLiteral("--count must be a whole number, at least 1"));
        }
        o.timeoutSeconds = timeoutSeconds;
        if (parser.isSet(timeoutOpt))
            o.waitSeconds = timeoutSeconds;
        return ctl::run(args, o);
    }

    FleetConnection connection(config);
    Watcher watcher(&connection, parser.isSet(jsonOpt), interval);
    // Ctrl-C or SIGTERM: stop the connection first (so no false "timed out" line follows), then leave the loop.
    onTerminationSignal([&connection] {
        connection.stop();
        QCoreApplication::quit();
    });
    connection.start();
    const int code = QCoreApplication::exec();
    watcher.printCounts();
    return code;
}
