// libFuzzer target: the SSE parser (api/sseparser.h). Any bytes, cut anywhere: the same events as the whole input
// at once, and the limits hold (no line or event past them is ever returned). Run by scripts/fuzz.

#include "sseparser.h"

#include <cstdint>
#include <cstdlib>

using fleet::SseParser;

namespace {

void check(bool ok)
{
    if (!ok)
        std::abort();
}

bool same(const SseParser::Output &a, const SseParser::Output &b)
{
    if (a.events.size() != b.events.size() || a.comments != b.comments || a.retryMs != b.retryMs
        || a.error.isEmpty() != b.error.isEmpty())
        return false;
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        if (a.events[i].type != b.events[i].type || a.events[i].data != b.events[i].data
            || a.events[i].lastEventId != b.events[i].lastEventId)
            return false;
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView all(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    constexpr qsizetype kLine = 512;
    constexpr qsizetype kEvent = 2048;

    SseParser whole;
    whole.setLimits(kLine, kEvent);
    SseParser::Output one;
    whole.feed(all, &one);

    // Cut at a position chosen by the first byte, and again byte by byte.
    SseParser cut;
    cut.setLimits(kLine, kEvent);
    SseParser::Output two;
    const qsizetype at = all.isEmpty() ? 0 : qsizetype(data[0]) % (all.size() + 1);
    cut.feed(all.first(at), &two);
    cut.feed(all.sliced(at), &two);
    check(same(one, two));

    SseParser bytes;
    bytes.setLimits(kLine, kEvent);
    SseParser::Output three;
    for (qsizetype i = 0; i < all.size(); ++i)
        bytes.feed(all.sliced(i, 1), &three);
    check(same(one, three));

    for (const auto &e : one.events)
        check(e.data.size() <= kEvent);
    return 0;
}
