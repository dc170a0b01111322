"""Training scripts: `python -m train --model {mae,cae,dae} --domain {mnist,sar}`."""
