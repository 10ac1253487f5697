// llava-desk-mtmd-embed: writes one image's embeddings exactly as libmtmd feeds them to the LLM
// (float32, tokens x width, row-major) and prints {"tokens":N,"width":W} as JSON.
//
// A diagnostic, built twice by scripts/build-native.mjs: from the patched llama.cpp source (the one
// the app ships) and from the unpatched upstream source (llava-desk-mtmd-embed-upstream), so tests
// can show what the patch series (native/patches, docs/UPSTREAM.md) changes. The image is decoded
// by libmtmd's helper (stb_image) and preprocessed by libmtmd itself, as llama-mtmd-cli does.
//
// usage: llava-desk-mtmd-embed -m MODEL.gguf --mmproj MMPROJ.gguf --image IMAGE -o OUT.f32
//                              [-t THREADS] [--image-max-tokens N] [--flash-attn auto|on|off]

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace {

[[noreturn]] void Die(const std::string & msg) {
    std::fprintf(stderr, "llava-desk-mtmd-embed: %s\n", msg.c_str());
    std::exit(1);
}

void QuietLog(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) {
        std::fputs(text, stderr);
    }
}

}  // namespace

int main(int argc, char ** argv) {
    std::string model, mmproj, image, out;
    int threads = 4;
    int imageMaxTokens = 0;
    llama_flash_attn_type flashAttn = LLAMA_FLASH_ATTN_TYPE_AUTO;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) Die("missing value after " + a);
            return argv[++i];
        };
        if (a == "-m" || a == "--model") model = next();
        else if (a == "--mmproj") mmproj = next();
        else if (a == "--image") image = next();
        else if (a == "-o" || a == "--out") out = next();
        else if (a == "-t" || a == "--threads") threads = std::atoi(next().c_str());
        else if (a == "--image-max-tokens") imageMaxTokens = std::atoi(next().c_str());
        else if (a == "--flash-attn") {
            const std::string v = next();
            if (v == "on") flashAttn = LLAMA_FLASH_ATTN_TYPE_ENABLED;
            else if (v == "off") flashAttn = LLAMA_FLASH_ATTN_TYPE_DISABLED;
            else if (v != "auto") Die("--flash-attn takes auto, on or off");
        }
        else Die("unknown argument " + a);
    }
    if (model.empty() || mmproj.empty() || image.empty() || out.empty()) {
        Die("usage: llava-desk-mtmd-embed -m MODEL --mmproj MMPROJ --image IMAGE -o OUT.f32 [-t N]");
    }

    llama_log_set(QuietLog, nullptr);
    mtmd_helper_log_set(QuietLog, nullptr);
    ggml_backend_load_all();
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * lm = llama_model_load_from_file(model.c_str(), mp);
    if (lm == nullptr) Die("cannot load the model " + model);

    mtmd_context_params p = mtmd_context_params_default();
    p.use_gpu = false;
    p.print_timings = false;
    p.n_threads = threads;
    p.warmup = false;
    p.flash_attn_type = flashAttn;
    if (imageMaxTokens > 0) p.image_max_tokens = imageMaxTokens;
    mtmd_context * ctx = mtmd_init_from_file(mmproj.c_str(), lm, p);
    if (ctx == nullptr) Die("cannot load the mmproj " + mmproj);

    mtmd_bitmap * bitmap =
        mtmd_helper_bitmap_init_from_file(ctx, image.c_str(), false, mtmd_helper_init_opt_default()).bitmap;
    if (bitmap == nullptr) Die("cannot read the image " + image);

    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    const std::string text = mtmd_default_marker();
    mtmd_input_text txt{text.c_str(), text.size(), false, true};
    const mtmd_bitmap * bitmaps[] = {bitmap};
    if (mtmd_tokenize(ctx, chunks, &txt, bitmaps, 1) != 0) Die("mtmd_tokenize failed");

    const int width = llama_model_n_embd_inp(lm);
    std::vector<float> all;
    size_t tokens = 0;
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
        const mtmd_input_chunk * chunk = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        const size_t n = mtmd_input_chunk_get_n_tokens(chunk);
        if (mtmd_encode_chunk(ctx, chunk) != 0) Die("mtmd_encode_chunk failed");
        const float * embd = mtmd_get_output_embd(ctx);
        all.insert(all.end(), embd, embd + n * static_cast<size_t>(width));
        tokens += n;
    }
    if (tokens == 0) Die("the image produced no image chunk");

    FILE * f = std::fopen(out.c_str(), "wb");
    if (f == nullptr || std::fwrite(all.data(), sizeof(float), all.size(), f) != all.size() || std::fclose(f) != 0) {
        Die("cannot write " + out);
    }
    std::printf("{\"tokens\":%zu,\"width\":%d}\n", tokens, width);

    mtmd_input_chunks_free(chunks);
    mtmd_bitmap_free(bitmap);
    mtmd_free(ctx);
    llama_model_free(lm);
    llama_backend_free();
    return 0;
}
