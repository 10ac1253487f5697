"""Linear probes of a stage-1 tower's frozen features (mean and max over its tokens) for the
scene-level facts the LLM must read: count, single shape, colour and side of each kind, and the
digit from the features of the high-detail tile that holds it. Tells whether a missed answer is
missing from the features or lost by the projector and LLM. Then the digit from each single token
of its tile, and the count from the density map read back from each block.

Usage: python3 scripts/shapes-model/probe.py [vision.pt] (default .cache/shapes-model/vision.pt)
"""
import os, sys, time
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import VisionTower, vision_config_of
from pool import load_or_build
import numpy as np
from data import view_labels, IGNORE, digit_tiles, density_map
from train import pixels
torch.set_num_threads(2)
weights = torch.load(sys.argv[1] if len(sys.argv) > 1 else '.cache/shapes-model/vision.pt')
vc = vision_config_of(weights)
tower = VisionTower(vc); tower.load_state_dict(weights); tower.eval()
t=time.time()
pool = load_or_build(None, 77, 3000, vc.image_size, vc.grid, 2)
rows = [i for i,s in enumerate(pool.scenes) if s.digit is None]
print('pool', len(rows), round(time.time()-t), flush=True)
with torch.no_grad():
    blocks = [torch.cat(b) for b in zip(*(tower.block_outputs(pixels(pool.standard[rows[i:i+128]])) for i in range(0, len(rows), 128)))]
feats = blocks[-1]
labels = [view_labels(pool.scenes[i], -1, vc.image_size) for i in rows]
pooled = torch.cat([feats.mean(1), feats.max(1).values], 1)  # what a reader of all tokens could get, linearly
n = len(rows); tr = int(n*0.75)
def probe(name, y, classes, pooled=pooled, n=n, tr=tr, per_class=False):
    y = torch.tensor(y); keep = y != IGNORE
    idx = torch.arange(n)
    trk = keep & (idx < tr); tek = keep & (idx >= tr)
    if tek.sum() < 20: return
    lin = torch.nn.Linear(pooled.shape[1], classes); opt = torch.optim.Adam(lin.parameters(), 3e-3, weight_decay=1e-4)
    x = (pooled - pooled[:tr].mean(0)) / (pooled[:tr].std(0) + 1e-5)
    for _ in range(600):
        loss = F.cross_entropy(lin(x[trk]), y[trk]); opt.zero_grad(); loss.backward(); opt.step()
    hit = lin(x[tek]).argmax(1) == y[tek]
    acc = hit.float().mean().item()
    each = ''
    if per_class:  # accuracy on each class of the held-out part
        each = ' (' + ', '.join(f'{c}: {hit[y[tek] == c].float().mean().item():.2f}' for c in range(classes) if (y[tek] == c).any()) + ')'
    print(f'{name}: {acc:.3f} of {int(tek.sum())}{each}', flush=True)
probe('count', [l.count for l in labels], 4, per_class=True)
probe('single shape', [l.single for l in labels], 3)
for k, kind in enumerate(['circle','square','triangle']):
    probe(f'colour of {kind}', [l.colour_of[k] for l in labels], 9)
    probe(f'left/right of {kind}', [l.left_of[k] for l in labels], 2)

# The digit: features of the tile that holds it (what high detail adds), 1,600 scenes of seed 78.
tiles, digits, _ = digit_tiles(1600, 78, vc.image_size, vc.grid)
with torch.no_grad():
    f = tower(pixels(tiles))
probe('digit (its tile)', digits.tolist(), 10, torch.cat([f.mean(1), f.max(1).values], 1), 1600, 1200)

# Every single token of the digit's tile, read linearly (the LLM reads tokens, not a pooled view).
xt = (f - f[:1200].mean((0, 1))) / (f[:1200].std((0, 1)) + 1e-5)
lin = torch.nn.Linear(xt.shape[-1], 10); opt = torch.optim.Adam(lin.parameters(), 1e-2)
yt = torch.tensor(digits)
for _ in range(500):
    loss = F.cross_entropy(lin(xt[:1200]).reshape(-1, 10), yt[:1200, None].expand(-1, xt.shape[1]).reshape(-1)); opt.zero_grad(); loss.backward(); opt.step()
with torch.no_grad():
    print(f'digit (each token of its tile): {(lin(xt[1200:]).argmax(-1) == yt[1200:, None]).float().mean().item():.3f} of {400 * xt.shape[1]}', flush=True)

# The density map (train.py --density-map) read back from each block's output by a per-patch
# linear regression, summed and rounded: the right count per number of shapes.
dens = torch.from_numpy(np.stack([density_map(pool.scenes[i], vc.grid).reshape(-1) for i in rows])) * 16
count = torch.tensor([len(pool.scenes[i].shapes) for i in rows])
for b, fb in enumerate(blocks):
    xb = (fb - fb[:tr].mean((0, 1))) / (fb[:tr].std((0, 1)) + 1e-5)
    lin = torch.nn.Linear(xb.shape[-1], 1); opt = torch.optim.Adam(lin.parameters(), 2e-2)
    for _ in range(800):
        loss = F.mse_loss(lin(xb[:tr]).squeeze(-1), dens[:tr]); opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad():
        est = (lin(xb[tr:]).squeeze(-1).sum(1) / 16).round().clamp(1, 4)
    t = count[tr:]
    each = ', '.join(f'{c}: {(est[t == c] == c).float().mean().item():.2f}' for c in range(1, 5))
    print(f'count from the density map of block {b}: {(est == t).float().mean().item():.3f} of {len(t)} ({each})', flush=True)
