#include "embeddedsim.h"

#include "fleetsimserver.h"

#include <QDateTime>
#include <QHostAddress>

namespace fleet::sim {

EmbeddedSim::EmbeddedSim()
{
    m_thread.setObjectName(QStringLiteral("fleet-sim"));
}

EmbeddedSim::~EmbeddedSim()
{
    if (m_context) {
        QMetaObject::invokeMethod(
            m_context,
            [this] {
                delete m_server;
                m_server = nullptr;
                delete m_context;
                m_context = nullptr;
            },
            Qt::BlockingQueuedConnection);
    }
    m_thread.quit();
    m_thread.wait();
}

namespace {

struct ScriptedAction
{
    int minutesAfterStart; // the scenario starts at 08:00 UTC
    const char *region;
    int count;
    const char *reason;
};

} // namespace

void installScriptedOperator(FleetSimServer *server)
{
    static const ScriptedAction actions[] = {
        { 80, "eu-west", 20, "Replace builders failing with ETIMEDOUT in eu-central (packet loss upstream)" },
        { 100, "us-east", 16, "More capacity while eu-central is degraded; queue for arm builds is growing" },
    };
    auto next = std::make_shared<std::size_t>(0);
    QObject::connect(server, &FleetSimServer::stepped, server, [server, next](qint64 now) {
        Simulation &sim = server->simulation();
        while (*next < std::size(actions)
            && now >= sim.scenario().start + qint64(actions[*next].minutesAfterStart) * 60'000) {
            const ScriptedAction &a = actions[(*next)++];
            ActionRequest request;
            request.actor = QStringLiteral("on-call (scripted demo)");
            request.role = Role::Operator;
            request.reason = QString::fromUtf8(a.reason);
            request.idempotencyKey = QStringLiteral("demo-script-%1").arg(*next);
            const int region = sim.regionIndex(QString::fromUtf8(a.region));
            if (region >= 0)
                sim.provision(region, a.count, Arch::Amd64, request);
        }
    });
}

Status EmbeddedSim::start(const Options &options)
{
    auto scenario = Scenario::load(options.scenario);
    if (!scenario)
        return Status::failure(scenario.error());
    if (options.warmupSeconds >= 0)
        scenario->warmupSeconds = options.warmupSeconds;
    SimulationOptions simOptions;
    simOptions.seed = options.seed;
    simOptions.workers = options.workers;
    simOptions.eventIdBase = QDateTime::currentMSecsSinceEpoch() * 1000;
    const int warmup = scenario->warmupSeconds;
    auto simulation = std::make_unique<Simulation>(std::move(*scenario), simOptions);
    simulation->advance(warmup);
    AccessControl access;
    access.addDefaultTokens();
    access.setRateLimit(0);
    ServerOptions serverOptions;
    serverOptions.speed = options.speed;
    serverOptions.heartbeatMs = options.heartbeatMs;

    m_thread.start();
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    QString listenError;
    QMetaObject::invokeMethod(
        m_context,
        [&] {
            m_server = new FleetSimServer(std::move(simulation), std::move(access), serverOptions);
            const Result<quint16> listened = m_server->listen(QHostAddress::LocalHost, options.port);
            m_port = listened ? listened.value() : 0;
            listenError = listened ? QString() : listened.error();
            Simulation &s = m_server->simulation();
            if (options.scriptedOperator && s.scenario().name == QLatin1String("upstream-packet-loss"))
                installScriptedOperator(m_server);
            m_description = QStringLiteral("%1, %2 workers in %3 regions, %4x")
                                .arg(s.scenario().name)
                                .arg(s.workerCount())
                                .arg(s.regionCount())
                                .arg(options.speed);
        },
        Qt::BlockingQueuedConnection);
    return m_port == 0 ? Status::failure(listenError) : Status::success();
}

QUrl EmbeddedSim::url() const
{
    QUrl u;
    u.setScheme(QStringLiteral("http"));
    u.setHost(QStringLiteral("127.0.0.1"));
    u.setPort(m_port);
    return u;
}

void EmbeddedSim::stopServing()
{
    run([](FleetSimServer &server) { server.close(); });
}

Status EmbeddedSim::startAgain()
{
    Status result = Status::failure(QStringLiteral("fleet-sim is not running"));
    run([&](FleetSimServer &server) {
        const Result<quint16> listened = server.listen(QHostAddress::LocalHost, m_port);
        result = listened ? Status::success() : Status::failure(listened.error());
    });
    return result;
}

void EmbeddedSim::run(const std::function<void(FleetSimServer &)> &call)
{
    if (!m_server)
        return;
    QMetaObject::invokeMethod(
        m_context, [&] { call(*m_server); }, Qt::BlockingQueuedConnection);
}

} // namespace fleet::sim
