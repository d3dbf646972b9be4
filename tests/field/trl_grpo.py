"""Oracle (runs in .venv-oracles): one step of TRL's own ``GRPOTrainer`` (trl 0.24, as LLaMA-Factory
pins it) with synth's reward function, ``synth.evaluation.reward.Rewards``, among its
``reward_funcs``, on a tiny randomly initialised Qwen2 model and a word-level tokenizer built here
(nothing is downloaded). The trainer generates the completions, passes them and the dataset's
columns to the reward functions its own way, and logs each function's mean reward.

stdin: ``{"items": [{"id", "key", "index", "variant", "qa"}, ...], "vocabulary": [word, ...],
"format_weight": float, "conversational": bool}``; the training dataset has one row per item
(``prompt`` and ``id``).
stdout: ``{"calls": [{"prompts", "completions", "id", "keys"}, ...], "returned": [[reward, ...],
...], "logged": {"rewards/synth/mean": ..., ...}}``: what TRL passed to synth's function on each
call (``keys``: the other keyword arguments), what the function returned, and TRL's log of the step.

trl 0.24 reads transformers 5's ``(available, version)`` package probes as booleans and sets a
``warnings_issued`` attribute transformers 5 models no longer have: both are set right before the
trainer is made (the versions LLaMA-Factory 0.9.5's pins resolve to)."""

import importlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    payload = json.load(sys.stdin)
    import torch
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    probes = importlib.import_module("trl.import_utils")
    for name, value in list(vars(probes).items()):
        if name.endswith("_available") and isinstance(value, tuple):
            setattr(probes, name, value[0])
    from trl import GRPOConfig, GRPOTrainer

    from synth.evaluation.items import Item
    from synth.evaluation.reward import Rewards
    from synth.programs.family import QA

    items = [Item(i["id"], i["key"], i["index"], i["variant"], QA.model_validate(i["qa"])) for i in payload["items"]]
    rewards = Rewards(items=items, format_weight=payload["format_weight"])
    calls, returned = [], []

    def recorded(prompts, completions, id, **kw):  # noqa: A002 (TRL passes the dataset's column by its name)
        calls.append({"prompts": prompts, "completions": completions, "id": list(id), "keys": sorted(kw)})
        returned.append(rewards(completions=completions, id=id, prompts=prompts, **kw))
        return returned[-1]

    recorded.__name__ = "synth"
    words = ["<pad>", "<eos>", *payload["vocabulary"]]
    word_level = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<pad>"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, pad_token="<pad>", eos_token="<eos>")
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(words),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    model = Qwen2ForCausalLM(config)
    model.warnings_issued = {}
    first = payload["vocabulary"][0]
    rows = [
        {"prompt": [{"role": "user", "content": first}] if payload["conversational"] else first, "id": i.id}
        for i in items
    ]
    args = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="grpo-"),
        max_steps=1,
        per_device_train_batch_size=len(rows) * 2,
        num_generations=2,
        max_completion_length=6,
        temperature=1.0,
        report_to=[],
        logging_steps=1,
        use_cpu=True,
        save_strategy="no",
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[recorded],
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    trainer.train()
    logged = next(h for h in trainer.state.log_history if "rewards/synth/mean" in h)
    print(json.dumps({"calls": calls, "returned": returned, "logged": logged}))


if __name__ == "__main__":
    main()
