#include "simulation.h"

#include "jsonwriter.h"
#include "wireencode.h"

#include <QLoggingCategory>

#include <algorithm>
#include <cmath>

Q_LOGGING_CATEGORY(lcSim, "fleet.sim", QtInfoMsg)

namespace fleet::sim {

namespace {

constexpr int kHeartbeatIntervalSeconds = 15;
constexpr int kMissedHeartbeatsForOffline = 4;
constexpr qint64 kRecentFailureWindowMs = 15 * 60 * 1000;
constexpr std::size_t kMaxFailureLog = 32;
constexpr double kBaseBuildErrorRate = 0.03;

QString paddedNumber(const char *prefix, qint64 n, int width)
{
    return QLatin1String(prefix) + QString::number(n).rightJustified(width, u'0');
}

QString archShortName(Arch arch)
{
    switch (arch) {
    case Arch::Amd64:
        return QStringLiteral("x64");
    case Arch::Aarch64:
        return QStringLiteral("a64");
    case Arch::Armv7hf:
        return QStringLiteral("a32");
    case Arch::Unknown:
        break;
    }
    return QStringLiteral("unk");
}

double percentile(std::vector<double> &values, double p)
{
    if (values.empty())
        return 0;
    const auto k = static_cast<std::size_t>(std::min<double>(values.size() - 1, std::floor(p * values.size())));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

} // namespace

double Simulation::Condition::value(qint64 t) const
{
    if (t >= rampEnd)
        return to;
    if (t <= rampStart)
        return from;
    const double f = double(t - rampStart) / double(rampEnd - rampStart);
    return from + (to - from) * f;
}

void Simulation::Condition::rampTo(double target, qint64 now, int rampSeconds)
{
    from = value(now);
    to = target;
    rampStart = now;
    rampEnd = now + qint64(rampSeconds) * 1000;
}

Simulation::Simulation(Scenario scenario, SimulationOptions options)
    : m_scenario(std::move(scenario))
    , m_options(options)
    , m_rng(options.seed)
    , m_now(m_scenario.start)
    , m_historyStart(m_scenario.start + 1000)
    , m_events(options.eventBufferSize, options.eventIdBase)
{
    m_options.historySeconds = std::max(m_options.historySeconds, 60);
    createInitialWorkers();
    m_creatingFleet = false;
}

void Simulation::createInitialWorkers()
{
    const int scenarioTotal = std::max(m_scenario.totalWorkers(), 1);
    const double scale = m_options.workers > 0 ? double(m_options.workers) / scenarioTotal : 1.0;
    int initialTotal = 0;
    m_regions.resize(m_scenario.regions.size());
    for (std::size_t r = 0; r < m_scenario.regions.size(); ++r) {
        const ScenarioRegion &sr = m_scenario.regions[r];
        RegionState &rs = m_regions[r];
        rs.info.id = sr.id;
        rs.info.name = sr.name;
        rs.info.provider = sr.provider;
        rs.info.location = sr.location;
        rs.info.capacity.maxWorkers = std::max(1, int(std::lround(sr.maxWorkers * scale)));
        rs.info.capacity.maxProvisionPerRequest = sr.maxProvisionPerRequest;
        rs.weight = sr.weight;
        rs.loss.from = rs.loss.to = sr.packetLoss;
        rs.rtt.from = rs.rtt.to = sr.rttMs;
        rs.demand.from = rs.demand.to = 1.0;
        rs.history.resize(std::size_t(m_options.historySeconds));
        rs.info.packetLoss = sr.packetLoss;
        rs.info.rttP50Ms = sr.rttMs;
        rs.info.rttP95Ms = sr.rttMs * 1.35;
    }
    // Interleave creation across regions and arches so ids do not cluster by region.
    for (std::size_t r = 0; r < m_scenario.regions.size(); ++r) {
        for (int a = 0; a < kArchCount; ++a) {
            const int n = int(std::lround(m_scenario.regions[r].workers[a] * scale));
            for (int i = 0; i < n; ++i) {
                const qint64 age = qint64(uniform() * 30 * 86400) * 1000;
                addWorker(int(r), Arch(a), WorkerState::Idle, m_now - age - 3600 * 1000);
                ++initialTotal;
            }
        }
    }
    m_totalBuildRate = m_scenario.utilization * initialTotal / m_scenario.meanBuildSeconds;
    qCDebug(lcSim) << "created" << initialTotal << "workers in" << m_regions.size() << "regions";
}

int Simulation::addWorker(int region, Arch arch, WorkerState state, qint64 startedAt, int provisionOperation)
{
    RegionState &rs = m_regions[region];
    SimWorker sw;
    const int number = m_nextWorkerNumber++;
    sw.w.id = paddedNumber("w-", number, 6);
    sw.w.name = QStringLiteral("%1-%2-%3")
                    .arg(rs.info.id, archShortName(arch), QString::number(number).rightJustified(5, u'0'));
    sw.w.region = rs.info.id;
    sw.w.arch = arch;
    sw.w.state = WorkerState::Terminated; // transition() below moves it into place and keeps the counts right
    sw.w.version = uniform() < 0.9 ? QStringLiteral("2025.11.2") : QStringLiteral("2025.10.4");
    sw.w.startedAt = startedAt;
    sw.w.lastHeartbeatAt = std::max(startedAt, m_now);
    sw.region = region;
    sw.rttFactor = float(0.8 + 0.5 * uniform());
    sw.lossFactor = float(0.6 + 0.8 * uniform());
    sw.w.rttMs = rs.rtt.value(m_now) * sw.rttFactor;
    sw.w.packetLoss = std::min(1.0, rs.loss.value(m_now) * sw.lossFactor);
    sw.provisionOperation = provisionOperation;
    if (provisionOperation >= 0)
        sw.w.operation = m_operations[provisionOperation].id;
    const int index = int(m_workers.size());
    m_workers.push_back(std::move(sw));
    m_workerById.insert(m_workers.back().w.id, index);
    ++rs.liveWorkers;
    rs.info.workersByState[int(WorkerState::Terminated)]++; // balanced by transition()
    transition(index, state);
    return index;
}

void Simulation::transition(int index, WorkerState to, const QString &offlineReason)
{
    SimWorker &sw = m_workers[index];
    RegionState &rs = m_regions[sw.region];
    const WorkerState from = sw.w.state;
    if (from == WorkerState::Idle && sw.idleSlot >= 0) {
        auto &idle = rs.idle[int(sw.w.arch)];
        const int last = idle.back();
        idle[sw.idleSlot] = last;
        m_workers[last].idleSlot = sw.idleSlot;
        idle.pop_back();
        sw.idleSlot = -1;
    }
    if (to == WorkerState::Idle) {
        auto &idle = rs.idle[int(sw.w.arch)];
        sw.idleSlot = int(idle.size());
        idle.push_back(index);
    }
    rs.info.workersByState[int(from)]--;
    rs.info.workersByState[int(to)]++;
    if (to == WorkerState::Terminated && from != WorkerState::Terminated)
        --rs.liveWorkers;
    sw.w.state = to;
    sw.w.offlineReason = (to == WorkerState::Offline || to == WorkerState::Terminated) ? offlineReason : QString();
    if (to != WorkerState::Busy && to != WorkerState::Draining)
        sw.w.currentBuild.clear();
    emitWorker(index);
}

void Simulation::emitWorker(int index)
{
    if (m_creatingFleet)
        return; // the initial fleet is in every snapshot; thousands of creation events would only flood the buffer
    QByteArray data;
    data.reserve(420);
    JsonWriter w(&data);
    writeWorker(w, m_workers[index].w);
    m_events.append(QByteArrayLiteral("worker"), std::move(data));
}

void Simulation::emitRegion(int region)
{
    RegionState &rs = m_regions[region];
    rs.emittedLoss = rs.info.packetLoss;
    rs.emittedRtt = rs.info.rttP50Ms;
    QByteArray data;
    JsonWriter w(&data);
    writeRegion(w, rs.info);
    m_events.append(QByteArrayLiteral("region"), std::move(data));
}

void Simulation::emitOperation(int op)
{
    QByteArray data;
    JsonWriter w(&data);
    writeOperation(w, m_operations[op]);
    m_events.append(QByteArrayLiteral("operation"), std::move(data));
}

int Simulation::regionIndex(QStringView id) const
{
    for (int i = 0; i < regionCount(); ++i) {
        if (m_regions[i].info.id == id)
            return i;
    }
    return -1;
}

int Simulation::queuedBuilds(int region) const
{
    int n = 0;
    for (const auto &q : m_regions[region].queues)
        n += int(q.size());
    return n;
}

int Simulation::workerIndex(QStringView id) const
{
    return m_workerById.value(id.toString(), -1);
}

int Simulation::workerLowerBound(QStringView id) const
{
    const auto it = std::upper_bound(m_workers.begin(), m_workers.end(), id,
        [](QStringView key, const SimWorker &sw) { return key < QStringView(sw.w.id); });
    return int(it - m_workers.begin());
}

int Simulation::operationIndex(QStringView id) const
{
    return m_operationById.value(id.toString(), -1);
}

QByteArray Simulation::snapshotJson() const
{
    QByteArray body;
    body.reserve(qsizetype(m_workers.size()) * 400 + 65536);
    JsonWriter w(&body);
    w.beginObject();
    w.field("sequence", m_events.lastId());
    w.key("time");
    w.timestamp(m_now);
    w.key("regions");
    w.beginArray();
    for (const RegionState &rs : m_regions)
        writeRegion(w, rs.info);
    w.endArray();
    w.key("workers");
    w.beginArray();
    for (const SimWorker &sw : m_workers)
        writeWorker(w, sw.w);
    w.endArray();
    w.key("operations");
    w.beginArray();
    int finished = 0;
    for (auto it = m_operations.rbegin(); it != m_operations.rend(); ++it) {
        if (isTerminal(it->state) && ++finished > 100)
            continue;
        writeOperation(w, *it);
    }
    w.endArray();
    w.endObject();
    return body;
}

void Simulation::advance(int seconds)
{
    for (int i = 0; i < seconds; ++i)
        step();
}

void Simulation::step()
{
    m_now += 1000;
    if (m_scenario.recording) {
        replaySecond();
        return;
    }
    applyTimeline();
    processTimers();
    arrivals();
    dispatch();
    heartbeats();
    processExpiries();
    updateDrains();
    recordHealth();
}

void Simulation::applyTimeline()
{
    while (m_nextTimelineEvent < m_scenario.timeline.size() && m_scenario.timeline[m_nextTimelineEvent].at <= m_now) {
        const ScenarioEvent &e = m_scenario.timeline[m_nextTimelineEvent++];
        const int r = regionIndex(e.region);
        RegionState &rs = m_regions[r];
        if (e.packetLoss)
            rs.loss.rampTo(*e.packetLoss, m_now, e.rampSeconds);
        if (e.rttMs)
            rs.rtt.rampTo(*e.rttMs, m_now, e.rampSeconds);
        if (e.demand)
            rs.demand.rampTo(*e.demand, m_now, e.rampSeconds);
        qCDebug(lcSim) << "timeline:" << e.region << e.note;
    }
}

void Simulation::setConditions(
    int region, std::optional<double> packetLoss, std::optional<double> rttMs, int rampSeconds)
{
    RegionState &rs = m_regions[region];
    if (packetLoss)
        rs.loss.rampTo(std::clamp(*packetLoss, 0.0, 1.0), m_now, rampSeconds);
    if (rttMs)
        rs.rtt.rampTo(std::max(*rttMs, 0.1), m_now, rampSeconds);
}

void Simulation::processTimers()
{
    while (!m_timers.empty() && m_timers.top().at <= m_now) {
        const Timer t = m_timers.top();
        m_timers.pop();
        SimWorker &sw = m_workers[t.worker];
        if (sw.timerGeneration != t.generation)
            continue; // cancelled
        if (sw.w.state == WorkerState::Provisioning) {
            transition(t.worker, WorkerState::Idle);
            if (sw.provisionOperation >= 0) {
                Operation &op = m_operations[sw.provisionOperation];
                ++op.progressDone;
                if (op.progressDone >= op.progressTotal)
                    finishOperation(sw.provisionOperation, OperationState::Succeeded,
                        QStringLiteral("All %1 workers are ready.").arg(op.progressTotal));
                else
                    updateOperation(sw.provisionOperation);
            }
        } else if (sw.w.state == WorkerState::Busy || sw.w.state == WorkerState::Draining) {
            finishBuild(t.worker);
        }
    }
}

double Simulation::buildDuration()
{
    constexpr double sigma = 0.5;
    const double factor = std::exp(sigma * m_normal(m_rng) - sigma * sigma / 2);
    return std::max(20.0, m_scenario.meanBuildSeconds * factor);
}

void Simulation::arrivals()
{
    double totalWeight = 0;
    for (const auto &rs : m_regions)
        totalWeight += rs.weight;
    if (totalWeight <= 0)
        return;
    for (auto &rs : m_regions) {
        const double regionRate = m_totalBuildRate * rs.weight / totalWeight * rs.demand.value(m_now);
        for (int a = 0; a < kArchCount; ++a) {
            const double lambda = regionRate * m_scenario.archMix[a];
            if (lambda <= 0)
                continue;
            std::poisson_distribution<int> poisson(lambda);
            const int n = poisson(m_rng);
            for (int i = 0; i < n; ++i)
                rs.queues[a].push_back({ m_nextBuildId++, m_now });
        }
    }
}

void Simulation::dispatch()
{
    // Least-loaded routing: the oldest queued build of an arch goes to the active region with the most idle workers
    // of that arch. A degraded region whose builds fail fast has idle workers more often and so attracts more
    // builds; draining it, or adding workers elsewhere, is what moves the work away.
    for (int a = 0; a < kArchCount; ++a) {
        for (;;) {
            int origin = -1;
            for (int r = 0; r < regionCount(); ++r) {
                const auto &q = m_regions[r].queues[a];
                if (!q.empty() && (origin < 0 || q.front().enqueuedAt < m_regions[origin].queues[a].front().enqueuedAt))
                    origin = r;
            }
            if (origin < 0)
                break;
            int target = -1;
            std::size_t best = 0;
            for (int r = 0; r < regionCount(); ++r) {
                const auto &rs = m_regions[r];
                if (rs.info.dispatchState != DispatchState::Active)
                    continue;
                const std::size_t idle = rs.idle[a].size();
                if (idle > best || (idle == best && idle > 0 && r == origin)) {
                    best = idle;
                    target = r;
                }
            }
            if (target < 0)
                break;
            const QueuedBuild build = m_regions[origin].queues[a].front();
            m_regions[origin].queues[a].pop_front();
            startBuild(m_regions[target].idle[a].back(), origin, build);
        }
    }
}

void Simulation::startBuild(int workerIndex, int originRegion, const QueuedBuild &build)
{
    SimWorker &sw = m_workers[workerIndex];
    RegionState &rs = m_regions[sw.region];
    const double loss = std::clamp(rs.loss.value(m_now) * sw.lossFactor, 0.0, 1.0);
    const double pTimeout = std::min(0.9, 1 - (1 - loss) * (1 - loss));
    const double pReset = loss * 0.25;
    const double pUnreach = std::max(0.0, loss - 0.5);
    const double r = uniform();
    double duration = buildDuration();
    if (r < pTimeout) {
        sw.outcome = int(FailureReason::ETimedOut);
        duration = 30 + 90 * uniform();
    } else if (r < pTimeout + pReset) {
        sw.outcome = int(FailureReason::EConnReset);
        duration *= uniform();
    } else if (r < pTimeout + pReset + pUnreach) {
        sw.outcome = int(FailureReason::EHostUnreach);
        duration = 3 + 7 * uniform();
    } else if (r < pTimeout + pReset + pUnreach + kBaseBuildErrorRate) {
        sw.outcome = int(FailureReason::BuildError);
        duration *= uniform();
    } else {
        sw.outcome = -1;
    }
    sw.w.currentBuild = paddedNumber("b-", build.id, 8);
    ++rs.started;
    ++rs.totals.buildsStarted;
    m_regions[originRegion].waits.push_back(double(m_now - build.enqueuedAt) / 1000.0);
    transition(workerIndex, WorkerState::Busy);
    m_timers.push({ m_now + std::max<qint64>(1000, qint64(duration * 1000)), workerIndex, ++sw.timerGeneration });
}

void Simulation::finishBuild(int index)
{
    SimWorker &sw = m_workers[index];
    RegionState &rs = m_regions[sw.region];
    if (sw.outcome < 0) {
        ++rs.succeeded;
        ++rs.totals.buildsSucceeded;
    } else {
        ++rs.failed;
        ++rs.totals.buildsFailed;
        ++rs.failures[sw.outcome];
        ++rs.totals.failures[sw.outcome];
        ++sw.w.recentFailures[sw.outcome];
        sw.failureLog.emplace_back(m_now, quint8(sw.outcome));
        if (sw.failureLog.size() > kMaxFailureLog) {
            --sw.w.recentFailures[sw.failureLog.front().second];
            sw.failureLog.erase(sw.failureLog.begin());
        }
    }
    sw.outcome = -1;
    if (sw.w.state == WorkerState::Draining) {
        if (sw.terminateWhenDone) {
            transition(index, WorkerState::Terminated, QStringLiteral("expired"));
        } else {
            transition(index, WorkerState::Offline, QStringLiteral("drained"));
            if (sw.drainOperation >= 0) {
                m_operations[sw.drainOperation].progressDone = 1;
                finishOperation(sw.drainOperation, OperationState::Succeeded,
                    QStringLiteral("Worker %1 finished its build and is out of rotation.").arg(sw.w.id));
                sw.drainOperation = -1;
            }
        }
    } else if (sw.missedHeartbeats >= kMissedHeartbeatsForOffline) {
        transition(index, WorkerState::Offline, QStringLiteral("heartbeat_lost"));
    } else {
        transition(index, WorkerState::Idle);
    }
}

void Simulation::heartbeats()
{
    const qint64 second = m_now / 1000;
    const int phase = int(second % kHeartbeatIntervalSeconds);
    for (int i = phase; i < workerCount(); i += kHeartbeatIntervalSeconds) {
        SimWorker &sw = m_workers[i];
        const WorkerState state = sw.w.state;
        if (state == WorkerState::Terminated || state == WorkerState::Provisioning)
            continue;
        if (state == WorkerState::Offline && sw.w.offlineReason != QLatin1String("heartbeat_lost"))
            continue; // drained workers are out of rotation and do not report
        const RegionState &rs = m_regions[sw.region];
        const double loss = rs.loss.value(m_now);
        sw.w.rttMs = rs.rtt.value(m_now) * sw.rttFactor * (0.95 + 0.1 * uniform());
        sw.w.packetLoss = std::min(1.0, loss * sw.lossFactor);
        while (!sw.failureLog.empty() && sw.failureLog.front().first < m_now - kRecentFailureWindowMs) {
            --sw.w.recentFailures[sw.failureLog.front().second];
            sw.failureLog.erase(sw.failureLog.begin());
        }
        const double pLost = std::min(0.9, loss * 1.6 * sw.lossFactor);
        if (uniform() >= pLost) {
            sw.w.lastHeartbeatAt = m_now;
            sw.missedHeartbeats = 0;
            if (state == WorkerState::Offline)
                transition(i, WorkerState::Idle);
        } else if (++sw.missedHeartbeats >= kMissedHeartbeatsForOffline && state == WorkerState::Idle) {
            transition(i, WorkerState::Offline, QStringLiteral("heartbeat_lost"));
        }
    }
}

void Simulation::processExpiries()
{
    for (auto it = m_expiring.begin(); it != m_expiring.end();) {
        const int opIndex = *it;
        Operation &op = m_operations[opIndex];
        if (op.expiresAt > m_now) {
            ++it;
            continue;
        }
        it = m_expiring.erase(it);
        const int r = regionIndex(op.region);
        AuditEntry entry;
        entry.actor = QStringLiteral("fleet-sim");
        entry.role = Role::Admin;
        entry.target = op.region;
        entry.operation = op.id;
        entry.result = QStringLiteral("succeeded");
        if (op.type == OperationType::Provision) {
            int terminated = 0;
            for (int i = 0; i < workerCount(); ++i) {
                SimWorker &sw = m_workers[i];
                if (sw.provisionOperation != opIndex || sw.w.state == WorkerState::Terminated)
                    continue;
                if (sw.w.state == WorkerState::Busy || sw.w.state == WorkerState::Draining) {
                    // Finish the running build first: its completion timer stays valid.
                    sw.terminateWhenDone = true;
                    if (sw.w.state == WorkerState::Busy)
                        transition(i, WorkerState::Draining);
                } else {
                    ++sw.timerGeneration; // a provisioning worker's ready timer no longer applies
                    transition(i, WorkerState::Terminated, QStringLiteral("expired"));
                }
                ++terminated;
            }
            if (!isTerminal(op.state))
                finishOperation(
                    opIndex, OperationState::Cancelled, QStringLiteral("Expired before all workers were ready."));
            entry.action = QStringLiteral("expire_provision");
            entry.detail = QStringLiteral("%1 workers provisioned by %2 reached their expiry and are being retired.")
                               .arg(terminated)
                               .arg(op.id);
        } else if (op.type == OperationType::DrainRegion && m_regions[r].drainOperation == opIndex) {
            RegionState &rs = m_regions[r];
            rs.info.dispatchState = DispatchState::Active;
            rs.info.dispatchChangedBy = entry.actor;
            rs.info.dispatchReason = QStringLiteral("Drain %1 expired").arg(op.id);
            rs.drainOperation = -1;
            if (!isTerminal(op.state))
                finishOperation(
                    opIndex, OperationState::Cancelled, QStringLiteral("Expired before the region drained."));
            emitRegion(r);
            entry.action = QStringLiteral("auto_resume_region");
            entry.detail
                = QStringLiteral("Drain %1 reached its expiry; region %2 takes builds again.").arg(op.id, op.region);
        } else {
            continue;
        }
        recordAudit(entry);
    }
}

void Simulation::updateDrains()
{
    for (int r = 0; r < regionCount(); ++r) {
        RegionState &rs = m_regions[r];
        if (rs.info.dispatchState != DispatchState::Draining)
            continue;
        const int busy
            = rs.info.workersByState[int(WorkerState::Busy)] + rs.info.workersByState[int(WorkerState::Draining)];
        if (rs.drainOperation >= 0) {
            Operation &op = m_operations[rs.drainOperation];
            const int done = std::max(0, op.progressTotal - busy);
            if (done != op.progressDone && busy > 0) {
                op.progressDone = done;
                updateOperation(rs.drainOperation);
            }
        }
        if (busy == 0) {
            rs.info.dispatchState = DispatchState::Drained;
            emitRegion(r);
            if (rs.drainOperation >= 0) {
                Operation &op = m_operations[rs.drainOperation];
                op.progressDone = op.progressTotal;
                finishOperation(rs.drainOperation, OperationState::Succeeded,
                    QStringLiteral("Region %1 is drained: no builds running, none will be dispatched.")
                        .arg(rs.info.id));
            }
        }
    }
}

void Simulation::recordHealth()
{
    const std::size_t slot = std::size_t(((m_now - m_scenario.start) / 1000) % m_options.historySeconds);
    for (int r = 0; r < regionCount(); ++r) {
        RegionState &rs = m_regions[r];
        const double loss = rs.loss.value(m_now);
        const double rtt = rs.rtt.value(m_now);
        CompactSample &c = rs.history[slot];
        for (int s = 0; s < kWorkerStateCount; ++s)
            c.workers[s] = quint32(std::max(0, rs.info.workersByState[s]));
        c.started = quint16(std::min(rs.started, 65535));
        c.succeeded = quint16(std::min(rs.succeeded, 65535));
        c.failed = quint16(std::min(rs.failed, 65535));
        for (int f = 0; f < kFailureReasonCount; ++f)
            c.failures[f] = quint16(std::min(rs.failures[f], 65535));
        c.rttP50 = float(rtt * (0.97 + 0.06 * uniform()));
        c.rttP95 = float(c.rttP50 * (1.35 + 2.5 * loss) * (0.95 + 0.1 * uniform()));
        c.loss = float(std::clamp(loss * (0.9 + 0.2 * uniform()), 0.0, 1.0));
        c.queueDepth = quint32(queuedBuilds(r));
        c.waitP50 = float(percentile(rs.waits, 0.5));
        c.waitP95 = float(percentile(rs.waits, 0.95));
        c.valid = true;
        rs.started = rs.succeeded = rs.failed = 0;
        rs.failures.fill(0);
        rs.waits.clear();

        emitHealth(r, c, loss, rtt);
    }
}

void Simulation::emitHealth(int r, const CompactSample &c, double loss, double rtt)
{
    RegionState &rs = m_regions[r];
    rs.info.packetLoss = loss;
    rs.info.rttP50Ms = c.rttP50;
    rs.info.rttP95Ms = c.rttP95;
    if (std::abs(loss - rs.emittedLoss) > 0.005 || std::abs(rtt - rs.emittedRtt) > 5)
        emitRegion(r);
    QByteArray data;
    data.reserve(400);
    JsonWriter w(&data);
    w.beginObject();
    w.field("region", QStringView(rs.info.id));
    w.key("sample");
    writeHealthSample(w, expand(c, m_now));
    w.endObject();
    m_events.append(QByteArrayLiteral("health"), std::move(data));
}

void Simulation::matchCounts(int region, const std::array<float, 16> &v)
{
    // The recorded counts per state, by moving this region's workers between states (adding or retiring some).
    const WorkerState states[]
        = { WorkerState::Idle, WorkerState::Busy, WorkerState::Offline, WorkerState::Provisioning };
    std::array<int, 4> target {};
    int total = 0;
    for (int i = 0; i < 4; ++i) {
        target[std::size_t(i)] = std::max(0, int(std::lround(v[std::size_t(i)])));
        total += target[std::size_t(i)];
    }
    RegionState &rs = m_regions[region];
    for (int n = rs.liveWorkers; n < total; ++n)
        addWorker(region, Arch(n % 10 < 7 ? 0 : n % 10 < 9 ? 1 : 2), WorkerState::Idle, m_now); // as the scenarios mix
    std::array<std::vector<int>, 4> surplus;
    std::vector<int> others; // draining: not recorded, so moved too
    for (int i = 0; i < workerCount(); ++i) {
        const SimWorker &sw = m_workers[std::size_t(i)];
        if (sw.region != region || sw.w.state == WorkerState::Terminated)
            continue;
        const auto *it = std::find(std::begin(states), std::end(states), sw.w.state);
        if (it == std::end(states)) {
            others.push_back(i);
            continue;
        }
        surplus[std::size_t(it - std::begin(states))].push_back(i);
    }
    std::vector<int> spare = others;
    for (int s = 0; s < 4; ++s) {
        auto &have = surplus[std::size_t(s)];
        while (int(have.size()) > target[std::size_t(s)]) {
            spare.push_back(have.back());
            have.pop_back();
        }
    }
    for (int s = 0; s < 4; ++s) {
        auto &have = surplus[std::size_t(s)];
        while (int(have.size()) < target[std::size_t(s)] && !spare.empty()) {
            const int w = spare.back();
            spare.pop_back();
            transition(w, states[s], states[s] == WorkerState::Offline ? QStringLiteral("heartbeat_lost") : QString());
            have.push_back(w);
        }
    }
    for (const int w : spare)
        transition(w, WorkerState::Terminated, QStringLiteral("replay"));
}

void Simulation::replaySecond()
{
    const Recording &rec = *m_scenario.recording;
    // Recorded operations as they stood, at their time (moved with the run when it was moved: --start-now).
    const qint64 shift = m_scenario.start - rec.startMs;
    while (m_nextRecordedOperation < rec.operations.size()
        && rec.operationTimes[m_nextRecordedOperation] + shift <= m_now) {
        Operation op = rec.operations[m_nextRecordedOperation++];
        for (qint64 *t : { &op.createdAt, &op.updatedAt, &op.finishedAt, &op.expiresAt })
            if (*t)
                *t += shift;
        int index = operationIndex(op.id);
        if (index < 0) {
            index = int(m_operations.size());
            m_operations.push_back(op);
            m_operationById.insert(op.id, index);
        } else {
            m_operations[std::size_t(index)] = op;
        }
        emitOperation(index);
        // A region's dispatch follows its recorded drain and resume, as the console's replay shows it.
        const int r = regionIndex(op.region);
        const bool done = op.state == OperationState::Succeeded;
        if (r >= 0 && op.state != OperationState::Failed && op.state != OperationState::Cancelled
            && (op.type == OperationType::DrainRegion || (op.type == OperationType::ResumeRegion && done))) {
            Region &info = m_regions[std::size_t(r)].info;
            info.dispatchState = op.type == OperationType::ResumeRegion ? DispatchState::Active
                : done                                                  ? DispatchState::Drained
                                                                        : DispatchState::Draining;
            info.dispatchChangedBy = op.requestedBy;
            info.dispatchReason = op.reason;
            emitRegion(r);
        }
    }
    const qint64 offset = (m_now - m_scenario.start) / 1000 - 1;
    const std::size_t slot = std::size_t(((m_now - m_scenario.start) / 1000) % m_options.historySeconds);
    for (int r = 0; r < regionCount(); ++r) {
        RegionState &rs = m_regions[r];
        const auto &seconds = rec.seconds[std::size_t(r)];
        CompactSample &c = rs.history[slot];
        if (offset < 0 || offset >= qint64(seconds.size()) || std::isnan(seconds[std::size_t(offset)][0])) {
            c.valid = false; // a gap in the recording stays a gap
            continue;
        }
        const auto &v = seconds[std::size_t(offset)];
        matchCounts(r, v);
        auto count = [&v](int i) { return std::isnan(v[std::size_t(i)]) ? 0 : int(std::lround(v[std::size_t(i)])); };
        auto real = [&v](int i) { return std::isnan(v[std::size_t(i)]) ? 0.0f : v[std::size_t(i)]; };
        for (int s = 0; s < kWorkerStateCount; ++s)
            c.workers[s] = quint32(std::max(0, rs.info.workersByState[s]));
        c.started = quint16(std::clamp(count(4), 0, 65535));
        c.succeeded = quint16(std::clamp(count(5), 0, 65535));
        c.failed = quint16(std::clamp(count(6), 0, 65535));
        for (int f = 0; f < kFailureReasonCount; ++f)
            c.failures[f] = quint16(std::clamp(count(7 + f), 0, 65535));
        c.rttP50 = real(11);
        c.rttP95 = real(12);
        c.loss = real(13);
        c.queueDepth = quint32(std::max(0, count(14)));
        c.waitP95 = real(15);
        c.waitP50 = c.waitP95; // not recorded
        c.valid = true;
        rs.totals.buildsStarted += c.started;
        rs.totals.buildsSucceeded += c.succeeded;
        rs.totals.buildsFailed += c.failed;
        for (int f = 0; f < kFailureReasonCount; ++f)
            rs.totals.failures[f] += c.failures[f];
        emitHealth(r, c, c.loss, c.rttP50);
    }
}

std::optional<ActionResult> Simulation::refusedInReplay() const
{
    if (!m_scenario.recording)
        return std::nullopt;
    ActionResult r;
    r.outcome = ActionResult::Outcome::Conflict;
    r.detail = QStringLiteral("fleet-sim is replaying a recorded incident (%1): its health is the recording's, so "
                              "actions are refused here. Rehearse them on a simulated scenario instead.")
                   .arg(m_scenario.recording->file);
    return r;
}

HealthSample Simulation::expand(const CompactSample &c, qint64 time) const
{
    HealthSample s;
    s.time = time;
    s.samples = c.valid ? 1 : 0;
    for (int i = 0; i < kWorkerStateCount; ++i)
        s.workersByState[i] = int(c.workers[i]);
    s.buildsStarted = c.started;
    s.buildsSucceeded = c.succeeded;
    s.buildsFailed = c.failed;
    for (int i = 0; i < kFailureReasonCount; ++i)
        s.failures[i] = c.failures[i];
    s.rttP50Ms = c.rttP50;
    s.rttP95Ms = c.rttP95;
    s.packetLoss = c.loss;
    s.queueDepth = int(c.queueDepth);
    s.waitP50Seconds = c.waitP50;
    s.waitP95Seconds = c.waitP95;
    return s;
}

qint64 Simulation::historyStart() const
{
    return std::max(m_historyStart, m_now - qint64(m_options.historySeconds - 1) * 1000);
}

std::vector<HealthSample> Simulation::health(int region, qint64 from, qint64 to, int stepSeconds) const
{
    std::vector<HealthSample> out;
    const qint64 stepMs = qint64(std::max(stepSeconds, 1)) * 1000;
    from -= ((from % stepMs) + stepMs) % stepMs; // align buckets to the step
    const RegionState &rs = m_regions[region];
    const qint64 oldest = historyStart();
    for (qint64 bucket = from; bucket < to; bucket += stepMs) {
        HealthSample agg;
        agg.time = bucket;
        agg.stepSeconds = int(stepMs / 1000);
        double rttP50Sum = 0, lossSum = 0, waitP50Sum = 0;
        const qint64 first = std::max(bucket, oldest);
        const qint64 last = std::min({ bucket + stepMs - 1000, m_now, to - 1 });
        for (qint64 t = first - first % 1000; t <= last; t += 1000) {
            if (t < oldest)
                continue;
            const auto slot = std::size_t(((t - m_scenario.start) / 1000) % m_options.historySeconds);
            const CompactSample &c = rs.history[slot];
            if (!c.valid)
                continue;
            const HealthSample s = expand(c, t);
            ++agg.samples;
            agg.workersByState = s.workersByState; // gauges: value at the end of the bucket
            agg.queueDepth = s.queueDepth;
            agg.buildsStarted += s.buildsStarted;
            agg.buildsSucceeded += s.buildsSucceeded;
            agg.buildsFailed += s.buildsFailed;
            for (int f = 0; f < kFailureReasonCount; ++f)
                agg.failures[f] += s.failures[f];
            rttP50Sum += s.rttP50Ms;
            lossSum += s.packetLoss;
            waitP50Sum += s.waitP50Seconds;
            agg.rttP95Ms = std::max(agg.rttP95Ms, s.rttP95Ms);
            agg.waitP95Seconds = std::max(agg.waitP95Seconds, s.waitP95Seconds);
        }
        if (agg.samples > 0) {
            agg.rttP50Ms = rttP50Sum / agg.samples;
            agg.packetLoss = lossSum / agg.samples;
            agg.waitP50Seconds = waitP50Sum / agg.samples;
        }
        out.push_back(agg);
    }
    return out;
}

// ---- operations ---------------------------------------------------------------------------------------------

std::optional<ActionResult> Simulation::replayed(const ActionRequest &request, const QString &fingerprint) const
{
    if (request.dryRun || request.idempotencyKey.isEmpty())
        return std::nullopt;
    const auto it = m_idempotency.constFind(request.actor + u'\x1f' + request.idempotencyKey);
    if (it == m_idempotency.constEnd())
        return std::nullopt;
    ActionResult result;
    if (it->fingerprint != fingerprint) {
        result.outcome = ActionResult::Outcome::KeyReused;
        result.operation = it->operation;
        result.detail
            = QStringLiteral("Idempotency-Key \"%1\" was already used for a different request (operation %2). "
                             "Use a new key for a new action.")
                  .arg(request.idempotencyKey, m_operations[it->operation].id);
        return result;
    }
    result.outcome = ActionResult::Outcome::Replayed;
    result.operation = it->operation;
    return result;
}

int Simulation::createOperation(
    OperationType type, int region, const ActionRequest &request, const QString &fingerprint)
{
    Operation op;
    op.id = paddedNumber("op-", qint64(m_operations.size()) + 1, 6);
    op.type = type;
    op.state = OperationState::Running;
    op.region = m_regions[region].info.id;
    op.reason = request.reason;
    op.requestedBy = request.actor;
    op.idempotencyKey = request.idempotencyKey;
    op.createdAt = op.updatedAt = m_now;
    op.expiresAt = request.expiresAt;
    const int index = int(m_operations.size());
    m_operations.push_back(op);
    m_operationById.insert(op.id, index);
    if (!request.idempotencyKey.isEmpty())
        m_idempotency.insert(request.actor + u'\x1f' + request.idempotencyKey, { fingerprint, index });
    if (request.expiresAt > 0)
        m_expiring.push_back(index);
    return index;
}

void Simulation::updateOperation(int op)
{
    m_operations[op].updatedAt = m_now;
    emitOperation(op);
}

void Simulation::finishOperation(int op, OperationState state, const QString &message)
{
    Operation &o = m_operations[op];
    o.state = state;
    o.message = message;
    o.updatedAt = o.finishedAt = m_now;
    emitOperation(op);
    AuditEntry entry;
    entry.actor = o.requestedBy;
    entry.role = Role::Operator;
    entry.action = wireName(o.type).toString();
    entry.target = o.worker.isEmpty() ? o.region : o.worker;
    entry.reason = o.reason;
    entry.result = wireName(state).toString();
    entry.detail = message;
    entry.operation = o.id;
    recordAudit(entry);
}

void Simulation::auditAction(const ActionRequest &request, const QString &action, const QString &target,
    const QString &result, const QString &detail, int op)
{
    AuditEntry entry;
    entry.actor = request.actor;
    entry.role = request.role;
    entry.action = action;
    entry.target = target;
    entry.reason = request.reason;
    entry.result = result;
    entry.detail = detail;
    entry.operation = op >= 0 ? m_operations[op].id : QString();
    recordAudit(entry);
}

void Simulation::recordAudit(AuditEntry entry)
{
    entry.id = paddedNumber("au-", qint64(m_audit.size()) + 1, 6);
    if (entry.time == 0)
        entry.time = m_now;
    QByteArray data;
    JsonWriter w(&data);
    writeAuditEntry(w, entry);
    m_events.append(QByteArrayLiteral("audit"), std::move(data));
    m_audit.push_back(std::move(entry));
}

int Simulation::dispatchableWorkers(int region) const
{
    const RegionState &rs = m_regions[region];
    if (rs.info.dispatchState != DispatchState::Active)
        return 0;
    return rs.info.workersByState[int(WorkerState::Idle)] + rs.info.workersByState[int(WorkerState::Busy)];
}

Impact Simulation::regionImpact(int region) const
{
    const RegionState &rs = m_regions[region];
    Impact impact;
    impact.runningBuilds
        = rs.info.workersByState[int(WorkerState::Busy)] + rs.info.workersByState[int(WorkerState::Draining)];
    impact.queuedBuilds = queuedBuilds(region);
    impact.activeWorkersBefore = dispatchableWorkers(region);
    impact.activeWorkersAfter = impact.activeWorkersBefore;
    impact.regionWorkers = rs.liveWorkers;
    impact.maxWorkers = rs.info.capacity.maxWorkers;
    return impact;
}

ActionResult Simulation::provision(int region, int count, Arch arch, const ActionRequest &request)
{
    if (auto refused = refusedInReplay())
        return *refused;
    const QString fingerprint = QStringLiteral("provision|%1|%2|%3|%4|%5")
                                    .arg(region)
                                    .arg(count)
                                    .arg(int(arch))
                                    .arg(request.reason)
                                    .arg(request.expiresAt);
    if (auto r = replayed(request, fingerprint))
        return *r;
    RegionState &rs = m_regions[region];
    ActionResult result;
    result.impact = regionImpact(region);
    result.impact.workersAffected = count;
    result.impact.activeWorkersAfter = result.impact.activeWorkersBefore + count;
    if (count < 1 || count > rs.info.capacity.maxProvisionPerRequest) {
        result.outcome = ActionResult::Outcome::Invalid;
        result.field = QStringLiteral("count");
        result.detail = QStringLiteral("count must be from 1 to %1 in region %2 (asked for %3).")
                            .arg(rs.info.capacity.maxProvisionPerRequest)
                            .arg(rs.info.id)
                            .arg(count);
        return result;
    }
    if (rs.liveWorkers + count > rs.info.capacity.maxWorkers) {
        result.outcome = ActionResult::Outcome::Invalid;
        result.field = QStringLiteral("count");
        result.detail = QStringLiteral("Region %1 would exceed its capacity: %2 of %3 workers in use, %4 requested. "
                                       "Ask for at most %5, or provision in another region.")
                            .arg(rs.info.id)
                            .arg(rs.liveWorkers)
                            .arg(rs.info.capacity.maxWorkers)
                            .arg(count)
                            .arg(std::max(0, rs.info.capacity.maxWorkers - rs.liveWorkers));
        return result;
    }
    if (rs.info.dispatchState != DispatchState::Active) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.operation = rs.drainOperation;
        result.detail = QStringLiteral("Region %1 is %2: new workers would take no builds. Resume the region first, "
                                       "or provision in another region.")
                            .arg(rs.info.id, wireName(rs.info.dispatchState));
        return result;
    }
    if (request.dryRun) {
        result.outcome = ActionResult::Outcome::DryRun;
        result.impact.notes << QStringLiteral(
            "%1 %2 workers would start provisioning in %3; they take builds when ready "
            "(about 1-2 minutes, longer under packet loss).")
                                   .arg(count)
                                   .arg(wireName(arch))
                                   .arg(rs.info.id);
        return result;
    }
    const int op = createOperation(OperationType::Provision, region, request, fingerprint);
    Operation &o = m_operations[op];
    o.count = count;
    o.arch = arch;
    o.progressTotal = count;
    const double loss = rs.loss.value(m_now);
    for (int i = 0; i < count; ++i) {
        const int w = addWorker(region, arch, WorkerState::Provisioning, m_now, op);
        SimWorker &sw = m_workers[w];
        const double seconds = (60 + 60 * uniform()) * (1 + 3 * loss);
        m_timers.push({ m_now + qint64(seconds * 1000), w, ++sw.timerGeneration });
    }
    emitOperation(op);
    auditAction(request, QStringLiteral("provision"), rs.info.id, QStringLiteral("accepted"),
        QStringLiteral("%1 %2 workers requested").arg(count).arg(wireName(arch)), op);
    result.outcome = ActionResult::Outcome::Created;
    result.operation = op;
    return result;
}

ActionResult Simulation::drainWorker(int worker, const ActionRequest &request)
{
    if (auto refused = refusedInReplay())
        return *refused;
    SimWorker &sw = m_workers[worker];
    const QString fingerprint = QStringLiteral("drain_worker|%1|%2").arg(sw.w.id, request.reason);
    if (auto r = replayed(request, fingerprint))
        return *r;
    ActionResult result;
    result.impact = regionImpact(sw.region);
    result.impact.workersAffected = 1;
    const WorkerState state = sw.w.state;
    if (state == WorkerState::Draining || state == WorkerState::Terminated
        || (state == WorkerState::Offline && sw.w.offlineReason == QLatin1String("drained"))) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.operation = sw.drainOperation;
        result.detail = QStringLiteral("Worker %1 is already %2%3.")
                            .arg(sw.w.id, wireName(state),
                                state == WorkerState::Offline ? QStringLiteral(" (drained)") : QString());
        return result;
    }
    if (state == WorkerState::Provisioning) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.operation = sw.provisionOperation;
        result.detail
            = QStringLiteral("Worker %1 is still provisioning; cancel its provision operation instead.").arg(sw.w.id);
        return result;
    }
    const bool busy = state == WorkerState::Busy;
    result.impact.runningBuilds = busy ? 1 : 0;
    result.impact.activeWorkersAfter = std::max(0, result.impact.activeWorkersBefore - 1);
    if (request.dryRun) {
        result.outcome = ActionResult::Outcome::DryRun;
        result.impact.notes << (busy
                ? QStringLiteral("Worker %1 finishes build %2, then leaves rotation.").arg(sw.w.id, sw.w.currentBuild)
                : QStringLiteral("Worker %1 leaves rotation at once.").arg(sw.w.id));
        return result;
    }
    const int op = createOperation(OperationType::DrainWorker, sw.region, request, fingerprint);
    m_operations[op].worker = sw.w.id;
    m_operations[op].progressTotal = 1;
    sw.drainOperation = op;
    sw.w.operation = m_operations[op].id;
    emitOperation(op);
    auditAction(request, QStringLiteral("drain_worker"), sw.w.id, QStringLiteral("accepted"), QString(), op);
    if (busy) {
        transition(worker, WorkerState::Draining);
    } else {
        ++sw.timerGeneration;
        transition(worker, WorkerState::Offline, QStringLiteral("drained"));
        m_operations[op].progressDone = 1;
        finishOperation(op, OperationState::Succeeded, QStringLiteral("Worker %1 is out of rotation.").arg(sw.w.id));
        sw.drainOperation = -1;
    }
    result.outcome = ActionResult::Outcome::Created;
    result.operation = op;
    return result;
}

ActionResult Simulation::drainRegion(int region, const ActionRequest &request)
{
    if (auto refused = refusedInReplay())
        return *refused;
    RegionState &rs = m_regions[region];
    const QString fingerprint
        = QStringLiteral("drain_region|%1|%2|%3").arg(rs.info.id, request.reason).arg(request.expiresAt);
    if (auto r = replayed(request, fingerprint))
        return *r;
    ActionResult result;
    result.impact = regionImpact(region);
    result.impact.workersAffected = rs.liveWorkers;
    result.impact.activeWorkersAfter = 0;
    if (rs.info.dispatchState != DispatchState::Active) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.operation = rs.drainOperation;
        result.detail
            = QStringLiteral("Region %1 is already %2%3.")
                  .arg(rs.info.id, wireName(rs.info.dispatchState),
                      rs.drainOperation >= 0 ? QStringLiteral(" (operation %1)").arg(m_operations[rs.drainOperation].id)
                                             : QString());
        return result;
    }
    int activeElsewhere = 0;
    for (int r = 0; r < regionCount(); ++r) {
        if (r != region)
            activeElsewhere += dispatchableWorkers(r);
    }
    if (request.dryRun) {
        result.outcome = ActionResult::Outcome::DryRun;
        result.impact.notes << QStringLiteral(
            "No new builds go to %1; its %2 running builds finish there; its %3 queued "
            "builds go to other regions.")
                                   .arg(rs.info.id)
                                   .arg(result.impact.runningBuilds)
                                   .arg(result.impact.queuedBuilds);
        result.impact.notes
            << QStringLiteral("%1 workers in other active regions would take the fleet's builds.").arg(activeElsewhere);
        if (activeElsewhere == 0)
            result.impact.notes << QStringLiteral(
                "Warning: no other region is active; builds will queue until one is.");
        return result;
    }
    const int op = createOperation(OperationType::DrainRegion, region, request, fingerprint);
    m_operations[op].progressTotal = result.impact.runningBuilds;
    rs.drainOperation = op;
    rs.info.dispatchState = DispatchState::Draining;
    rs.info.dispatchChangedBy = request.actor;
    rs.info.dispatchReason = request.reason;
    emitRegion(region);
    emitOperation(op);
    auditAction(request, QStringLiteral("drain_region"), rs.info.id, QStringLiteral("accepted"),
        QStringLiteral("%1 running builds to finish").arg(result.impact.runningBuilds), op);
    updateDrains(); // an idle region drains at once
    result.outcome = ActionResult::Outcome::Created;
    result.operation = op;
    return result;
}

ActionResult Simulation::resumeRegion(int region, const ActionRequest &request)
{
    if (auto refused = refusedInReplay())
        return *refused;
    RegionState &rs = m_regions[region];
    const QString fingerprint = QStringLiteral("resume_region|%1|%2").arg(rs.info.id, request.reason);
    if (auto r = replayed(request, fingerprint))
        return *r;
    ActionResult result;
    result.impact = regionImpact(region);
    result.impact.workersAffected = rs.liveWorkers;
    result.impact.activeWorkersAfter
        = rs.info.workersByState[int(WorkerState::Idle)] + rs.info.workersByState[int(WorkerState::Busy)];
    if (rs.info.dispatchState == DispatchState::Active) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.detail = QStringLiteral("Region %1 is already active.").arg(rs.info.id);
        return result;
    }
    if (request.dryRun) {
        result.outcome = ActionResult::Outcome::DryRun;
        result.impact.notes << QStringLiteral("Region %1 takes builds again on %2 workers.")
                                   .arg(rs.info.id)
                                   .arg(result.impact.activeWorkersAfter);
        return result;
    }
    const int previousDrain = rs.drainOperation;
    const int op = createOperation(OperationType::ResumeRegion, region, request, fingerprint);
    m_operations[op].progressTotal = 1;
    m_operations[op].progressDone = 1;
    rs.info.dispatchState = DispatchState::Active;
    rs.info.dispatchChangedBy = request.actor;
    rs.info.dispatchReason = request.reason;
    rs.drainOperation = -1;
    emitRegion(region);
    auditAction(request, QStringLiteral("resume_region"), rs.info.id, QStringLiteral("accepted"), QString(), op);
    if (previousDrain >= 0 && !isTerminal(m_operations[previousDrain].state))
        finishOperation(previousDrain, OperationState::Cancelled,
            QStringLiteral("Region resumed by %1 (%2) before the drain finished.")
                .arg(request.actor, m_operations[op].id));
    finishOperation(op, OperationState::Succeeded, QStringLiteral("Region %1 takes builds again.").arg(rs.info.id));
    result.outcome = ActionResult::Outcome::Created;
    result.operation = op;
    return result;
}

ActionResult Simulation::cancel(int opIndex, const ActionRequest &request)
{
    if (auto refused = refusedInReplay())
        return *refused;
    Operation &op = m_operations[opIndex];
    const QString fingerprint = QStringLiteral("cancel|%1|%2").arg(op.id, request.reason);
    if (auto r = replayed(request, fingerprint))
        return *r;
    ActionResult result;
    result.operation = opIndex;
    if (isTerminal(op.state)) {
        result.outcome = ActionResult::Outcome::Conflict;
        result.detail
            = QStringLiteral("Operation %1 has already %2; there is nothing to cancel.").arg(op.id, wireName(op.state));
        return result;
    }
    if (request.dryRun) {
        result.outcome = ActionResult::Outcome::DryRun;
        return result;
    }
    if (!request.idempotencyKey.isEmpty())
        m_idempotency.insert(request.actor + u'\x1f' + request.idempotencyKey, { fingerprint, opIndex });
    QString message;
    const int region = regionIndex(op.region);
    if (op.type == OperationType::Provision) {
        int terminated = 0;
        for (int i = 0; i < workerCount(); ++i) {
            SimWorker &sw = m_workers[i];
            if (sw.provisionOperation == opIndex && sw.w.state == WorkerState::Provisioning) {
                ++sw.timerGeneration;
                transition(i, WorkerState::Terminated, QStringLiteral("cancelled"));
                ++terminated;
            }
        }
        message = QStringLiteral(
            "Cancelled by %1: %2 of %3 workers were ready and stay; %4 still provisioning were terminated.")
                      .arg(request.actor)
                      .arg(op.progressDone)
                      .arg(op.progressTotal)
                      .arg(terminated);
    } else if (op.type == OperationType::DrainWorker) {
        const int w = workerIndex(op.worker);
        if (w >= 0 && m_workers[w].w.state == WorkerState::Draining) {
            m_workers[w].drainOperation = -1;
            transition(w, WorkerState::Busy);
        }
        message = QStringLiteral("Cancelled by %1: worker %2 stays in rotation.").arg(request.actor, op.worker);
    } else if (op.type == OperationType::DrainRegion) {
        RegionState &rs = m_regions[region];
        if (rs.drainOperation == opIndex) {
            rs.info.dispatchState = DispatchState::Active;
            rs.info.dispatchChangedBy = request.actor;
            rs.info.dispatchReason = request.reason;
            rs.drainOperation = -1;
            emitRegion(region);
        }
        message = QStringLiteral("Cancelled by %1: region %2 takes builds again.").arg(request.actor, op.region);
    }
    auditAction(request, QStringLiteral("cancel"), op.id, QStringLiteral("accepted"), QString(), opIndex);
    finishOperation(opIndex, OperationState::Cancelled, message);
    result.outcome = ActionResult::Outcome::Created;
    return result;
}

} // namespace fleet::sim
