#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "bitmap.h"
#include "common.h"
#include "context.h"
#include "llama.h"

namespace lld {

class Mtmd;

// evalPrompt's plain arguments, read on the JS thread (as InitMtmdArgs are for initMtmd).
struct EvalPromptArgs {
    int32_t seqId;
    int32_t nPast;
    std::string text;
    bool addSpecial;
    bool parseSpecial;
    int32_t nBatch;
    bool logitsLast;
};

// What evalPrompt holds while it runs: the objects it uses, kept alive by references, and marked
// busy (the context acquired, the mtmd context running, each bitmap in use) until Finish().
struct EvalPromptTargets {
    Mtmd * mtmd;
    Napi::Object mtmdObj;
    Context * context;
    Napi::Object contextObj;
    std::vector<Bitmap *> bitmaps;
    std::vector<Napi::ObjectReference> bitmapRefs;
};

struct ChunkStat {
    std::string type;
    size_t nTokens;
    std::string id;
    bool cached;
};

// Tokenizes a prompt with its bitmaps and evaluates it chunk by chunk into one sequence: text
// decoded, images encoded (or taken from the embedding cache) and decoded. On failure the sequence
// is rolled back to nPast.
class EvalPromptWorker : public PromiseWorker {
  public:
    EvalPromptWorker(Napi::Env env, EvalPromptTargets targets, EvalPromptArgs args);

  protected:
    void Run() override;
    void Finish() override;
    Napi::Value Result(Napi::Env env) override;

  private:
    void CheckDecode(int32_t ret, const char * what);

    Mtmd * mtmd_;
    Context * context_;
    std::vector<Bitmap *> bitmaps_;
    std::vector<Napi::ObjectReference> bitmapRefs_;
    Napi::ObjectReference mtmdRef_;
    Napi::ObjectReference contextRef_;
    EvalPromptArgs args_;

    llama_pos newNPast_ = 0;
    size_t textTokens_ = 0;
    size_t imageTokens_ = 0;
    double encodeMs_ = 0;
    double decodeMs_ = 0;
    double totalMs_ = 0;
    int32_t cachedImages_ = 0;
    bool logitsReady_ = true;
    std::vector<ChunkStat> stats_;
};

}  // namespace lld
