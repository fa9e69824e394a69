// fleet-sim: a simulated builder fleet serving the Fleet API v1 over HTTP (see docs/fleet-sim.md).

#include "embeddedsim.h"
#include "fleetsimserver.h"
#include "isotime.h"
#include "metricsexposition.h"
#include "terminalsafe.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QTextStream>

#include <csignal>
#include <cstdio>

using namespace fleet;
using namespace fleet::sim;

namespace {

int fail(const QString &message)
{
    QTextStream(stderr) << "fleet-sim: " << message << '\n';
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("fleet-sim"));
    QCoreApplication::setApplicationVersion(QStringLiteral(FLEET_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Simulated builder fleet serving the Fleet API v1.\n"
        "Default tokens when none are given: viewer view-secret, operator op-secret, admin admin-secret."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption scenarioOpt(QStringLiteral("scenario"),
        QStringLiteral("Built-in scenario name or path to a scenario JSON file (default: calm)."),
        QStringLiteral("name"), QStringLiteral("calm"));
    const QCommandLineOption replayOpt(QStringLiteral("replay"),
        QStringLiteral("Serve an incident bundle (fleet-console's record exported, or fleetctl record) over the Fleet "
                       "API as it was recorded, at --speed: a game day on the real incident. Actions are refused."),
        QStringLiteral("file"));
    const QCommandLineOption replayAtOpt(QStringLiteral("replay-at"),
        QStringLiteral("With --replay: start serving at this UTC time of the recording (2025-11-12T09:30:00Z); the "
                       "recording before it is the history."),
        QStringLiteral("time"));
    const QCommandLineOption listOpt(
        QStringLiteral("list-scenarios"), QStringLiteral("List the built-in scenarios and exit."));
    const QCommandLineOption portOpt(QStringLiteral("port"),
        QStringLiteral("TCP port; 0 picks a free one (default 8080)."), QStringLiteral("port"), QStringLiteral("8080"));
    const QCommandLineOption bindOpt(QStringLiteral("bind"),
        QStringLiteral("Address to listen on (default 127.0.0.1)."), QStringLiteral("address"),
        QStringLiteral("127.0.0.1"));
    const QCommandLineOption seedOpt(QStringLiteral("seed"),
        QStringLiteral("Random seed; the same seed gives the same run."), QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption speedOpt(QStringLiteral("speed"),
        QStringLiteral("Simulated seconds per real second; 0 pauses the clock (default 1)."), QStringLiteral("x"),
        QStringLiteral("1"));
    const QCommandLineOption workersOpt(QStringLiteral("workers"),
        QStringLiteral("Scale the fleet to this many workers (default: as the scenario says)."), QStringLiteral("n"),
        QStringLiteral("0"));
    const QCommandLineOption warmupOpt(QStringLiteral("warmup"),
        QStringLiteral("Simulated seconds to run before serving, so history exists (default: the scenario's)."),
        QStringLiteral("seconds"));
    const QCommandLineOption startNowOpt(QStringLiteral("start-now"),
        QStringLiteral("Run the scenario from now: its clock starts at the current time less the warm-up, so that at "
                       "--speed 1 the simulated clock is the wall clock (a Prometheus scraping /metrics stamps "
                       "samples with its own clock)."));
    const QCommandLineOption openMetricsOpt(QStringLiteral("openmetrics-history"),
        QStringLiteral("Write the warm-up's /metrics as OpenMetrics to FILE, one sample every --openmetrics-step "
                       "seconds stamped on the scenario's clock, for promtool tsdb create-blocks-from openmetrics "
                       "(with --start-now the file ends now, so a Prometheus holds the scenario's past hours). Then "
                       "serves as usual."),
        QStringLiteral("file"));
    const QCommandLineOption openMetricsStepOpt(QStringLiteral("openmetrics-step"),
        QStringLiteral("Seconds between the samples of --openmetrics-history (default 15, Prometheus's scrape "
                       "interval)."),
        QStringLiteral("seconds"), QStringLiteral("15"));
    const QCommandLineOption tokenOpt(QStringLiteral("token"),
        QStringLiteral("Accept a token: ROLE:TOKEN[:NAME], ROLE viewer, operator or admin. Repeatable."),
        QStringLiteral("spec"));
    const QCommandLineOption tokenFileOpt(QStringLiteral("tokens-file"),
        QStringLiteral("JSON file of tokens: {\"tokens\":[{\"token\":..,\"role\":..,\"name\":..}]}."),
        QStringLiteral("file"));
    const QCommandLineOption heartbeatOpt(QStringLiteral("heartbeat-ms"),
        QStringLiteral("Event stream heartbeat interval (default 15000)."), QStringLiteral("ms"),
        QStringLiteral("15000"));
    const QCommandLineOption rateOpt(QStringLiteral("rate-limit"),
        QStringLiteral("Requests per second per token before 429; 0 turns it off (default 50)."), QStringLiteral("n"),
        QStringLiteral("50"));
    const QCommandLineOption historyOpt(QStringLiteral("history-hours"),
        QStringLiteral("Hours of one-second health history kept per region (default 24)."), QStringLiteral("hours"),
        QStringLiteral("24"));
    const QCommandLineOption bufferOpt(QStringLiteral("event-buffer"),
        QStringLiteral("Events kept for Last-Event-ID resume (default 65536)."), QStringLiteral("n"),
        QStringLiteral("65536"));
    const QCommandLineOption tlsCertOpt(QStringLiteral("tls-cert"),
        QStringLiteral("Serve HTTPS with this PEM certificate (needs --tls-key)."), QStringLiteral("file"));
    const QCommandLineOption tlsKeyOpt(
        QStringLiteral("tls-key"), QStringLiteral("PEM private key for --tls-cert."), QStringLiteral("file"));
    const QCommandLineOption scriptedOpt(QStringLiteral("scripted-operator"),
        QStringLiteral("In the upstream-packet-loss scenario, a scripted on-call engineer provisions replacement "
                       "workers at 09:20 and 09:40 UTC (the console's --demo uses this)."));
    parser.addOption(scriptedOpt);
    parser.addOptions({ openMetricsOpt, openMetricsStepOpt });
    parser.addOptions({ replayOpt, replayAtOpt });
    parser.addOptions({ scenarioOpt, listOpt, portOpt, bindOpt, seedOpt, speedOpt, workersOpt, warmupOpt, startNowOpt,
        tokenOpt, tokenFileOpt, heartbeatOpt, rateOpt, historyOpt, bufferOpt, tlsCertOpt, tlsKeyOpt });
    parser.process(app);

    if (parser.isSet(listOpt)) {
        for (const QString &name : Scenario::builtInNames()) {
            const auto s = Scenario::load(name);
            QTextStream(stdout) << name << "\t" << (s ? s->title : s.error()) << '\n';
        }
        return 0;
    }

    auto number = [&parser](const QCommandLineOption &opt, double min, double max, double *out) {
        bool ok = false;
        *out = parser.value(opt).toDouble(&ok);
        if (!ok || *out < min || *out > max) {
            fail(QStringLiteral("--%1 must be a number from %2 to %3 (got \"%4\")")
                     .arg(opt.names().constFirst())
                     .arg(min)
                     .arg(max)
                     .arg(parser.value(opt)));
            return false;
        }
        return true;
    };
    double port = 0, seed = 0, speed = 0, workers = 0, heartbeat = 0, rate = 0, history = 0, buffer = 0;
    if (!number(portOpt, 0, 65535, &port) || !number(seedOpt, 0, 9e15, &seed) || !number(speedOpt, 0, 10000, &speed)
        || !number(workersOpt, 0, 1'000'000, &workers) || !number(heartbeatOpt, 50, 3'600'000, &heartbeat)
        || !number(rateOpt, 0, 1e6, &rate) || !number(historyOpt, 0.1, 168, &history)
        || !number(bufferOpt, 16, 10'000'000, &buffer))
        return 2;

    if (parser.isSet(replayOpt) && parser.isSet(scenarioOpt))
        return fail(QStringLiteral("--replay serves a recording; leave out --scenario"));
    if (parser.isSet(replayAtOpt) && !parser.isSet(replayOpt))
        return fail(QStringLiteral("--replay-at goes with --replay FILE"));
    auto scenario = Scenario::load(parser.isSet(replayOpt) ? parser.value(replayOpt) : parser.value(scenarioOpt));
    if (!scenario)
        return fail(scenario.error());
    if (parser.isSet(replayOpt) && !scenario->recording)
        return fail(QStringLiteral("%1 is not an incident bundle (its first line has no \"format\": "
                                   "\"fleet-console-incident\")")
                        .arg(parser.value(replayOpt)));
    if (parser.isSet(replayAtOpt)) {
        const std::optional<qint64> at = parseIsoUtc(parser.value(replayAtOpt));
        const qint64 end = scenario->start + qint64(scenario->recording->seconds.front().size()) * 1000;
        if (!at || *at <= scenario->start || *at > end)
            return fail(QStringLiteral("--replay-at must be a UTC time within the recording, %1 to %2")
                            .arg(formatIsoUtc(scenario->start + 1000), formatIsoUtc(end)));
        scenario->warmupSeconds = int((*at - scenario->start) / 1000);
    }
    if (parser.isSet(warmupOpt)) {
        double warmup = 0;
        if (!number(warmupOpt, 0, 7 * 86400, &warmup))
            return 2;
        scenario->warmupSeconds = int(warmup);
    }
    if (parser.isSet(startNowOpt)) {
        // Whole seconds, so that the simulated seconds and Prometheus's scrapes line up on the same clock.
        const qint64 now = QDateTime::currentMSecsSinceEpoch() / 1000 * 1000;
        scenario->startAt(now - qint64(scenario->warmupSeconds) * 1000);
    }

    AccessControl access;
    for (const QString &spec : parser.values(tokenOpt)) {
        if (const Status added = access.addTokenSpec(spec); !added)
            return fail(added.error());
    }
    if (parser.isSet(tokenFileOpt)) {
        if (const Status loaded = access.loadTokenFile(parser.value(tokenFileOpt)); !loaded)
            return fail(loaded.error());
    }
    const bool defaultTokens = access.isEmpty();
    if (defaultTokens)
        access.addDefaultTokens();
    access.setRateLimit(rate);

    SimulationOptions simOptions;
    simOptions.seed = quint64(seed);
    simOptions.workers = int(workers);
    simOptions.historySeconds = int(history * 3600);
    simOptions.eventBufferSize = int(buffer);
    // Each run of fleet-sim numbers its events from its start time (microseconds): a client resuming with an id
    // from an earlier run is then told to resync instead of being handed another run's events as if they followed.
    simOptions.eventIdBase = QDateTime::currentMSecsSinceEpoch() * 1000;
    const int warmupSeconds = scenario->warmupSeconds;
    auto simulation = std::make_unique<Simulation>(std::move(*scenario), simOptions);
    if (parser.isSet(openMetricsOpt)) {
        double step = 0;
        if (!number(openMetricsStepOpt, 1, 3600, &step))
            return 2;
        QFile file(parser.value(openMetricsOpt));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        OpenMetricsWriter writer;
        for (int done = 0; done < warmupSeconds;) {
            const int n = std::min(int(step), warmupSeconds - done);
            simulation->advance(n);
            done += n;
            writer.add(fleetMetrics(*simulation, 0), simulation->now() / 1000);
        }
        const QByteArray text = writer.finish();
        if (file.write(text) != text.size() || !file.flush())
            return fail(QStringLiteral("cannot write %1: %2").arg(file.fileName(), file.errorString()));
        QTextStream(stdout) << "fleet-sim: " << writer.samples() << " samples of " << warmupSeconds / 3600.0
                            << " h written to " << file.fileName() << '\n';
    } else {
        simulation->advance(warmupSeconds);
    }

    ServerOptions serverOptions;
    serverOptions.speed = speed;
    serverOptions.heartbeatMs = int(heartbeat);
    if (parser.isSet(tlsCertOpt) != parser.isSet(tlsKeyOpt))
        return fail(QStringLiteral("--tls-cert and --tls-key go together"));
    serverOptions.tlsCertificateFile = parser.value(tlsCertOpt);
    serverOptions.tlsKeyFile = parser.value(tlsKeyOpt);
    FleetSimServer server(std::move(simulation), std::move(access), serverOptions);
    const QHostAddress address(parser.value(bindOpt));
    if (address.isNull())
        return fail(QStringLiteral("--bind \"%1\" is not an IP address").arg(parser.value(bindOpt)));
    const Result<quint16> listened = server.listen(address, quint16(port));
    if (!listened)
        return fail(listened.error());
    const quint16 listening = listened.value();

    Simulation &sim = server.simulation();
    if (parser.isSet(scriptedOpt) && sim.scenario().name == QLatin1String("upstream-packet-loss"))
        installScriptedOperator(&server);
    QTextStream out(stdout);
    out << "fleet-sim listening on " << (serverOptions.tlsCertificateFile.isEmpty() ? "http" : "https") << "://"
        << (address.protocol() == QAbstractSocket::IPv6Protocol ? QStringLiteral("[%1]").arg(address.toString())
                                                                : address.toString())
        << ':' << listening << '\n';
    out << "  scenario " << sim.scenario().name << ", " << sim.workerCount() << " workers in " << sim.regionCount()
        << " regions, seed " << qint64(seed) << ", speed " << speed << "x\n";
    out << "  simulated time " << formatIsoUtc(sim.now()) << '\n';
    if (defaultTokens)
        out << "  tokens: viewer view-secret, operator op-secret, admin admin-secret (defaults)\n";
    // The demo token only where it works: with tokens of their own, a curl line with view-secret would get 401.
    const QString scheme
        = serverOptions.tlsCertificateFile.isEmpty() ? QStringLiteral("http") : QStringLiteral("https");
    if (defaultTokens)
        out << "  try: curl -H 'Authorization: Bearer view-secret' " << scheme << "://127.0.0.1:" << listening
            << "/v1/regions\n";
    else
        out << "  try: curl -H \"Authorization: Bearer $YOUR_TOKEN\" " << scheme << "://127.0.0.1:" << listening
            << "/v1/regions   (one of the tokens given with --token or --tokens-file)\n";
    out.flush();

    onTerminationSignal([] { QCoreApplication::quit(); }); // outside the signal handler, on the event loop
    return QCoreApplication::exec();
}
