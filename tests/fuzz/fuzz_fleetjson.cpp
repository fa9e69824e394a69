// libFuzzer target: the Fleet API decoders (api/wiredecode.h). The first byte picks the decoder; worker lists are
// decoded with the fast path and with the general decoder, which must agree (same error, or the same workers,
// compared by their encoding). Nothing may crash or run away on any input. Run by scripts/fuzz.

#include "jsonwriter.h"
#include "wiredecode.h"
#include "wireencode.h"

#include <cstdint>
#include <cstdlib>

using namespace fleet;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

QByteArray encoded(const std::vector<Worker> &workers)
{
    QByteArray out;
    JsonWriter w(&out);
    w.beginArray();
    for (const Worker &worker : workers)
        writeWorker(w, worker);
    w.endArray();
    return out;
}

template <typename T> void compare(const Result<T> &a, const Result<T> &b)
{
    check(a.ok() == b.ok());
    if (!a.ok())
        check(a.error() == b.error());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static WireDecoder fast;
    static WireDecoder &general = []() -> WireDecoder & {
        static WireDecoder d;
        d.setWorkerFastPath(false);
        return d;
    }();
    const QByteArray json(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const QString ep = QStringLiteral("fuzz");
    switch (data[0] % 12) {
    case 0: {
        const auto a = fast.snapshot(json, ep);
        const auto b = general.snapshot(json, ep);
        compare(a, b);
        if (a.ok())
            check(encoded(a->workers) == encoded(b->workers));
        break;
    }
    case 1: {
        const auto a = fast.workers(json, ep);
        const auto b = general.workers(json, ep);
        compare(a, b);
        if (a.ok())
            check(encoded(a->items) == encoded(b->items));
        break;
    }
    case 2:
        (void)fast.identity(json, ep);
        break;
    case 3:
        (void)fast.regions(json, ep);
        break;
    case 4:
        (void)fast.worker(json, ep);
        break;
    case 5:
        (void)fast.health(json, ep);
        break;
    case 6:
        (void)fast.operation(json, ep);
        break;
    case 7:
        (void)fast.operations(json, ep);
        break;
    case 8:
        (void)fast.audit(json, ep);
        break;
    case 9:
        (void)fast.dryRun(json, ep);
        break;
    case 10:
        (void)fast.problem(json, ep);
        break;
    default:
        (void)fast.event(1, QStringLiteral("worker"), json);
        (void)fast.event(2, QStringLiteral("operation"), json);
        (void)fast.event(3, QStringLiteral("health"), json);
        break;
    }
    return 0;
}
